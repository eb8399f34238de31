package redact

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestError(t *testing.T) {
	plain := errors.New("connection refused")
	tests := []struct {
		name string
		err  error
		want string // "" for nil
		same bool   // the error itself comes back
	}{
		{"nil stays nil", nil, "", true},
		{"an error without a card number is kept", plain, "connection refused", true},
		{"a number too short for a card is kept", errors.New("amount 100000"), "amount 100000", true},
		{"a card number is withheld", fmt.Errorf("cannot read %q", "4242424242424242"),
			"error text withheld: it holds a card-like number", false},
		{"a card number with spaces is withheld", errors.New("card 4242 4242 4242 4242 is bad"),
			"error text withheld: it holds a card-like number", false},
		{"a payout id whose hex digits run like a card number is kept",
			errors.New("tracking_id po_a61546353248371706e6769d35dc7f1e: transaction not found"),
			"tracking_id po_a61546353248371706e6769d35dc7f1e: transaction not found", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Error(tt.err)

			if tt.want == "" {
				require.NoError(t, got)
				return
			}
			require.EqualError(t, got, tt.want)
			require.Equal(t, tt.same, got == tt.err)
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Declined by issuer bank", "Declined by issuer bank"},
		{"rrn 000123, auth code 654321", "rrn 000123, auth code 654321"},
		{"card 5555-5555-5555-4444 is invalid", "[withheld: holds a card-like number]"},
		{"5555555555554444", "[withheld: holds a card-like number]"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, Text(tt.in))
		})
	}
}
