package policy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNameMatches(t *testing.T) {
	tests := []struct {
		bank, expected string
		match          bool
	}{
		{"Петр Иванович С.", "Иванов Петр Сергеевич", true}, // the seed's example
		{"Петр Сергеевич И.", "Иванов Петр Сергеевич", true},
		{"Ivan Ivanovich Ivanov", "Ivanov Ivan Ivanovich", true},
		{"Ivan Ivanovich Ivanov", "Ivan Ivanov", false}, // the bank knows more words than expected
		{"ПЁТР иванович с", "Иванов Пётр Сергеевич", true},
		{"Петр", "Иванов Петр Сергеевич", false}, // one word says too little
		{"Мария Петровна К.", "Иванов Петр Сергеевич", false},
		{"Петр Андреевич С.", "Иванов Петр Сергеевич", false}, // no word left that starts with А
		{"П. Иванович С.", "Иванов Петр Сергеевич", false},    // an initial alone never matches the first word
		{"", "Иванов Петр Сергеевич", false},
		{"Петр", "", false},
		{"Петр Петр", "Иванов Петр Сергеевич", false}, // each expected word is used once
	}
	for _, tt := range tests {
		t.Run(tt.bank+"~"+tt.expected, func(t *testing.T) {
			require.Equal(t, tt.match, NameMatches(tt.bank, tt.expected))
		})
	}
}
