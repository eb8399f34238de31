// Package redact keeps card numbers out of what a provider reports: error texts and the provider's free text can
// quote one (a JSON decoding error quotes the value it could not read; a bank's description may name the card).
package redact

import (
	"errors"

	"github.com/payoutflow/payoutflow/payout"
)

// Error drops an error whose text holds what looks like a card number, for an error that says only that; other
// errors, and nil, are returned as they are.
func Error(err error) error {
	if err == nil || !payout.LooksLikeCardNumber(err.Error()) {
		return err
	}
	return errors.New("error text withheld: it holds a card-like number")
}

// Text withholds a text that holds what looks like a card number; other texts are returned as they are.
func Text(s string) string {
	if !payout.LooksLikeCardNumber(s) {
		return s
	}
	return "[withheld: holds a card-like number]"
}
