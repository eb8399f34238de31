package policy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNameMatches_ReadsEachWordInItsRole(t *testing.T) {
	plain, translit := NameMatchOptions{}, NameMatchOptions{AllowTransliteration: true}
	tests := []struct {
		name           string
		bank, expected string
		opts           NameMatchOptions
		match          bool
	}{
		// What SBP returns: given name, patronymic and the surname's initial.
		{"the SBP form", "Петр Сергеевич И.", "Иванов Петр Сергеевич", plain, true},
		{"an initial without its dot", "Петр Сергеевич И", "Иванов Петр Сергеевич", plain, true},
		{"case and ё do not count", "ПЁТР сергеевич и.", "Иванов Пётр Сергеевич", plain, true},
		{"ё on one side only", "Петр Сергеевич И.", "Иванов Пётр Сергеевич", plain, true},
		{"the surname in full", "Петр Сергеевич Иванов", "Иванов Петр Сергеевич", plain, true},
		{"the patronymic as an initial", "Петр С. И.", "Иванов Петр Сергеевич", plain, true},
		{"the bank gives no patronymic", "Петр И.", "Иванов Петр Сергеевич", plain, true},
		{"the recipient has no patronymic", "Петр Сергеевич И.", "Иванов Петр", plain, true},
		{"the recipient given name first", "Петр Сергеевич И.", "Петр Сергеевич Иванов", plain, true},
		{"a patronymic in -ична", "Анна Ильинична К.", "Козлова Анна Ильинична", plain, true},
		{"a Turkic patronymic", "Рашид Гасан оглы А.", "Алиев Рашид Гасан оглы", plain, true},
		{"a hyphenated surname by its initial", "Михаил Евграфович С.", "Салтыков-Щедрин Михаил Евграфович", plain, true},
		{"a hyphenated surname in full", "Михаил Евграфович Салтыков-Щедрин", "Салтыков-Щедрин Михаил Евграфович", plain, true},
		{"a double surname by its initial", "Николай Андреевич Р.", "Римский Корсаков Николай Андреевич", plain, true},
		{"a double surname with and without the hyphen", "Николай Андреевич Римский-Корсаков", "Римский Корсаков Николай Андреевич", plain, true},
		{"Latin on both sides", "Ivan Ivanovich Ivanov", "Ivanov Ivan Ivanovich", plain, true},
		{"invisible characters do not count", "Петр\u200b Серге\u00adевич И.", "Иванов Петр Сергеевич", plain, true},
		{"the recipient's initials", "Петр Сергеевич И.", "Иванов П. С.", plain, true},

		{"another patronymic", "Петр Семенович И.", "Иванов Петр Сергеевич", plain, false},
		{"the initial of another patronymic", "Петр А. И.", "Иванов Петр Сергеевич", plain, false},
		{"patronymic and surname initial swapped", "Петр Иванович С.", "Иванов Петр Сергеевич", plain, false},
		{"the initial of another surname", "Петр Сергеевич С.", "Иванов Петр Сергеевич", plain, false},
		{"given name and patronymic swapped", "Сергей Петрович И.", "Иванов Петр Сергеевич", plain, false},
		{"another surname in full", "Петр Сергеевич Ивановский", "Иванов Петр Сергеевич", plain, false},
		{"an initial never stands for the given name", "П. Сергеевич И.", "Иванов Петр Сергеевич", plain, false},
		{"a patronymic is no surname", "Петр Сергеевич", "Иванов Петр Сергеевич", plain, false},
		{"another person", "Мария Петровна К.", "Иванов Петр Сергеевич", plain, false},
		{"the given name twice", "Петр Петр", "Иванов Петр Сергеевич", plain, false},
		{"the second part of a double surname is not its initial", "Николай Андреевич К.", "Римский-Корсаков Николай Андреевич", plain, false},
		{"another Turkic patronymic", "Рашид Мамед оглы А.", "Алиев Рашид Гасан оглы", plain, false},
		{"Latin is no match for Cyrillic", "Petr Sergeevich I.", "Иванов Петр Сергеевич", plain, false},
		{"Cyrillic is no match for Latin", "Петр Сергеевич И.", "Ivanov Petr Sergeevich", plain, false},
		{"one word alone", "Петр", "Иванов Петр Сергеевич", plain, false},
		{"a one-word recipient", "Петр Сергеевич И.", "Петр", plain, false},
		{"no bank name", "", "Иванов Петр Сергеевич", plain, false},
		{"no recipient", "Петр Сергеевич И.", "", plain, false},

		{"Latin letters as a passport writes them, where allowed", "Petr Sergeevich I.", "Иванов Пётр Сергеевич", translit, true},
		{"Cyrillic letters for a Latin name, where allowed", "Петр Сергеевич И.", "Ivanov Petr Sergeevich", translit, true},
		{"a Latin initial, where allowed", "Iurii Ivanovich Z.", "Жуков Юрий Иванович", translit, true},
		{"a Cyrillic initial, where allowed", "Юрий Иванович Ж.", "Zhukov Iurii Ivanovich", translit, true},
		{"another transliteration", "Pyotr Sergeevich I.", "Иванов Петр Сергеевич", translit, false},
		{"another patronymic in Latin letters", "Petr Semenovich I.", "Иванов Петр Сергеевич", translit, false},
		{"the initial of another surname in Latin letters", "Petr Sergeevich S.", "Иванов Петр Сергеевич", translit, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.match, tt.opts.Match(tt.bank, tt.expected), "%q ~ %q", tt.bank, tt.expected)
			if tt.opts == (NameMatchOptions{}) {
				require.Equal(t, tt.match, NameMatches(tt.bank, tt.expected), "NameMatches is the zero options' rule")
			}
		})
	}
}

func TestNameMatchesV1_KeepsTheRelease1Rule(t *testing.T) {
	tests := []struct {
		bank, expected string
		match          bool
	}{
		{"Петр Иванович С.", "Иванов Петр Сергеевич", true},
		{"Петр Сергеевич И.", "Иванов Петр Сергеевич", true},
		{"Петр Семенович И.", "Иванов Петр Сергеевич", true}, // the release-1 mistake, replayed as it was made
		{"Петр Сергеевич", "Иванов Петр Сергеевич", true},
		{"Петр Сергеевич Ивановский", "Иванов Петр Сергеевич", true},
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
		{"Петр Сергеевич И.", "Иванов Петр", false},
	}
	for _, tt := range tests {
		t.Run(tt.bank+"~"+tt.expected, func(t *testing.T) {
			require.Equal(t, tt.match, NameMatchesV1(tt.bank, tt.expected))
		})
	}
}
