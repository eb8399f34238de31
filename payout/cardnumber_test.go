package payout

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMaskCardNumbers_MasksEveryCardNumberLooksLikeCardNumberFinds(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "4242424242424242", "424242******4242"},
		{"spaces", "card 4242 4242 4242 4242 ok", "card 4242 42** **** 4242 ok"},
		{"dashes", "4242-4242-4242-4242", "4242-42**-****-4242"},
		{"dots", "4242.4242.4242.4242", "4242.42**.****.4242"},
		{"no-break spaces", "4242\u00a04242\u00a04242\u00a04242", "4242\u00a042**\u00a0****\u00a04242"},
		{"spaced dashes", "4242 - 4242 - 4242 - 4242", "4242 - 42** - **** - 4242"},
		{"19 digits", "4242 4242 4242 4242 121", "4242 42** **** ***2 121"},
		{"amex grouped 4-6-5", "3782 822463 10005", "3782 82**** *0005"},
		{"expiry after the number", "4242 4242 4242 4242 12/28", "4242 42** **** 4242 12/28"},
		{"digits before the number", "order 12 4242 4242 4242 4242", "order 12 4242 42** **** 4242"},
		{"digits after a plain number", "4242424242424242 1234", "424242******4242 1234"},
		{"in json", `{"reason":"4000 0000 0000 0002"}`, `{"reason":"4000 00** **** 0002"}`},
		{"two numbers", "5555555555554444, 2200 0000 0000 0004", "555555******4444, 2200 00** **** 0004"},
		{"20-digit account number", "на счёт 40817810099910004312", "на счёт 40817810099910004312"},
		{"unknown scheme", "order 1234567812345670", "order 1234567812345670"},
		{"fails luhn", "4242 4242 4242 4241", "4242 4242 4242 4241"},
		{"phone", "+7 900 123-45-67", "+7 900 123-45-67"},
		{"timestamp", "2025-01-15 10:20:30.123456", "2025-01-15 10:20:30.123456"},
		{"empty", "", ""},
		// A payout ID is a hash: about one in 1,550 holds a run of digits that reads as a card number.
		{"payout id", "po_a61546353248371706e6769d35dc7f1e", "po_a61546353248371706e6769d35dc7f1e"},
		{"payout id in a path", "/v1/payouts/po_a61546353248371706e6769d35dc7f1e/confirm", "/v1/payouts/po_a61546353248371706e6769d35dc7f1e/confirm"},
		{"payout id in json", `{"tracking_id":"po_a61546353248371706e6769d35dc7f1e"}`, `{"tracking_id":"po_a61546353248371706e6769d35dc7f1e"}`},
		{"card beside a payout id", "po_a61546353248371706e6769d35dc7f1e 4242424242424242", "po_a61546353248371706e6769d35dc7f1e 424242******4242"},
		{"card after a payout id's dash", "po_a61546353248371706e6769d35dc7f1e-4242424242424242", "po_a61546353248371706e6769d35dc7f1e-424242******4242"},
		{"too long for a payout id", "po_a61546353248371706e6769d35dc7f1e0", "po_a615463*******1706e6769d35dc7f1e0"},
		{"inside a longer word", "xpo_a61546353248371706e6769d35dc7f1e", "xpo_a615463*******1706e6769d35dc7f1e"},
		{"upper-case hex is not a payout id", "po_A61546353248371706E6769D35DC7F1E", "po_A615463*******1706E6769D35DC7F1E"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, string(MaskCardNumbers([]byte(tt.in))))
			require.Equal(t, tt.want != tt.in, LooksLikeCardNumber(tt.in), "detection and masking agree")
		})
	}
}

// testCards are the providers' test card numbers: each must always be found.
var testCards = []string{
	"4242424242424242", "5555555555554444", "2200000000000004", "4000000000000002", "378282246310005",
	"6011111111111117", "4242424242424242121",
}

func TestLooksLikeCardNumber_FindsEveryTestCard(t *testing.T) {
	for _, pan := range testCards {
		for _, sep := range []string{"", " ", "-", ".", "\u00a0"} {
			s := group(pan, sep)
			require.True(t, LooksLikeCardNumber(s), "%q", s)
			require.True(t, LooksLikeCardNumber("card "+s+", thanks"), "%q", s)
			masked := strings.ReplaceAll(string(MaskCardNumbers([]byte(s))), sep, "")
			require.Equal(t, pan[:6]+strings.Repeat("*", len(pan)-10)+pan[len(pan)-4:], masked)
		}
	}
}

// group writes pan in groups of four digits joined by sep.
func group(pan, sep string) string {
	var groups []string
	for len(pan) > 4 {
		groups = append(groups, pan[:4])
		pan = pan[4:]
	}
	return strings.Join(append(groups, pan), sep)
}

// TestLooksLikeCardNumber_LetsOrdinaryIDsPass measures how often random IDs are taken for card numbers. A random
// 16-digit number starts with a card scheme's prefix 4,134 times in 10,000: Visa 4 (1,000), Mastercard, Maestro,
// UnionPay and Discover 5 and 6 (2,000), Mir and Mastercard 2200–2204 and 2221–2720 (505), Amex, Diners and JCB
// 300–305, 34, 36–39 and 3528–3589 (622), and seven national schemes' four-digit prefixes (7). One in ten of those
// passes the Luhn check: 4.13%, with a standard error of 0.06% over 100,000 samples. A 20-digit account number is
// never a card number.
func TestLooksLikeCardNumber_LetsOrdinaryIDsPass(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 2))
	refused := func(n, digits int, format func(string) string) float64 {
		hits := 0
		for range n {
			b := make([]byte, digits)
			for i := range b {
				b[i] = byte('0' + rng.IntN(10))
			}
			if LooksLikeCardNumber(format(string(b))) {
				hits++
			}
		}
		return float64(hits) / float64(n)
	}
	order := func(id string) string { return "order " + id }
	account := func(id string) string { return fmt.Sprintf("на счёт %s, БИК 044525225", id) }
	rate16 := refused(100_000, 16, order)
	rate20 := refused(10_000, 20, account)
	rate20ru := refused(10_000, 15, func(id string) string { return account("40817" + id) })
	t.Logf("refused: %.2f%% of random 16-digit IDs, %.2f%% of random 20-digit account numbers, %.2f%% of 40817… accounts",
		100*rate16, 100*rate20, 100*rate20ru)
	require.Less(t, rate16, 0.045, "at most the share of scheme prefixes times the Luhn check's one in ten")
	require.Zero(t, rate20)
	require.Zero(t, rate20ru)
}

func TestLooksLikeCardNumber_NeverTakesAPayoutIDForOne(t *testing.T) {
	// Payout IDs travel in paths, logs, Temporal UI (masked by the codec server) and providers' error texts (withheld
	// when they hold a card number): one taken for a card number would be masked or withheld wherever it goes.
	for i := range 20_000 {
		id := OwnedID("backend", fmt.Sprintf("order-%d", i))
		require.False(t, LooksLikeCardNumber(id), "key order-%d: %s", i, id)
		require.False(t, LooksLikeCardNumber(`{"error":"no transaction `+id+`"}`), "key order-%d: %s", i, id)
		require.False(t, LooksLikeCardNumber(ID(fmt.Sprintf("order-%d", i))), "legacy key order-%d", i)
	}
}

func TestValidate_LetsAccountNumbersAndOrderIDsPass(t *testing.T) {
	r := validRequest()
	r.Description = "Оплата на счёт 40817810099910004312"
	r.Metadata = map[string]string{"account": "40817810099910004312", "order_id": "1234567812345670"}
	require.NoError(t, r.Validate(anyProvider{}))
}

func TestValidate_RefusesACardNumberSentAsAToken(t *testing.T) {
	for _, token := range []string{"4242424242424242", "4242 4242 4242 4242", " 2200-0000-0000-0004 "} {
		t.Run(token, func(t *testing.T) {
			r := validRequest()
			r.Destination.Card = &Card{Token: token}
			err := r.Validate(anyProvider{})
			requireFieldError(t, err, "destination.card.token", "card_number_not_allowed")
			require.Contains(t, err.Error(), "a card number is not a token")
			require.NotContains(t, err.Error(), strings.TrimSpace(token))
		})
	}
	for _, token := range []string{
		"b4469f38-cec7-4f55-a86d-2ab2dc300e0b", "759c9852dde2211d7531b3d905c1d513fbfb914bee87fb567d99c7b2f2c2ad44",
		strings.Repeat("4242", 16),
	} {
		r := validRequest()
		r.Destination.Card = &Card{Token: token}
		require.NoError(t, r.Validate(anyProvider{}), token)
	}
}

func FuzzMaskCardNumbers_ChangesExactlyWhatLooksLikeCardNumberFinds(f *testing.F) {
	for _, s := range []string{"4242 4242 4242 4242 12/28", "order 12 4242-4242-4242-4242", "40817810099910004312", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		masked := string(MaskCardNumbers([]byte(s)))
		require.Len(t, masked, len(s))
		require.Equal(t, masked != s, LooksLikeCardNumber(s))
	})
}
