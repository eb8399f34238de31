package policy

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
)

func req(provider, currency string, amount int64, name string) payout.Request {
	return payout.Request{
		Provider: provider, Amount: payout.Amount{Value: amount, Currency: currency},
		Destination: payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Number: "4242424242424242"}},
		Recipient:   payout.Recipient{FullName: name},
	}
}

func load(t *testing.T, body string) *Policy {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.json")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	p, err := Load(path)
	require.NoError(t, err)
	return p
}

const example = `{
  "approval_timeout": "2h",
  "rules": [
    {"name": "bank131 cards", "provider": "bank131", "method": "card_number", "currency": "RUB",
     "auto_approve_max": 100000, "two_approvers_from": 1000000, "decline_above": 50000000},
    {"name": "everything else"}
  ],
  "decline_recipients": ["Bad Actor"]
}`

func TestDecide(t *testing.T) {
	p := load(t, example)
	tests := []struct {
		name string
		req  payout.Request
		want Verdict
	}{
		{"small: policy approves alone", req("bank131", "RUB", 100000, "Ivan"),
			Verdict{Approvers: 1, AutoApprove: "1000.00 RUB is within the automatic approval limit of 1000.00 RUB (bank131 cards)", Rule: "bank131 cards"}},
		{"middle: one person", req("bank131", "RUB", 100001, "Ivan"), Verdict{Approvers: 1, Rule: "bank131 cards"}},
		{"large: two people", req("bank131", "RUB", 1000000, "Ivan"), Verdict{Approvers: 2, Rule: "bank131 cards"}},
		{"too large: declined", req("bank131", "RUB", 50000001, "Ivan"),
			Verdict{Approvers: 1, Decline: "500000.01 RUB is above the limit of 500000.00 RUB (bank131 cards)", Rule: "bank131 cards"}},
		{"another provider falls to the next rule", req("bepaid", "BYN", 100, "Ivan"), Verdict{Approvers: 1, Rule: "everything else"}},
		{"declined recipient, any case", req("bank131", "RUB", 100, "bad actor"),
			Verdict{Approvers: 1, Decline: "the recipient is on the policy's decline list"}},
		{"declined recipient, spaces and punctuation", req("bank131", "RUB", 100, "  Bad   Actor. "),
			Verdict{Approvers: 1, Decline: "the recipient is on the policy's decline list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.ApprovalTimeout = 2 * time.Hour
			require.Equal(t, tt.want, p.Decide(tt.req))
		})
	}
}

func TestDefault_OnePersonApprovesEverything(t *testing.T) {
	require.Equal(t, Verdict{Approvers: 1}, Default.Decide(req("bank131", "RUB", 1<<40, "Ivan")))
}

func TestLoad_RefusesAWrongFile(t *testing.T) {
	for name, body := range map[string]string{
		"unknown field":           `{"rules": [{"auto_aprove_max": 5}]}`,
		"negative amount":         `{"rules": [{"decline_above": -1}]}`,
		"auto above two-person":   `{"rules": [{"currency": "RUB", "auto_approve_max": 10, "two_approvers_from": 5}]}`,
		"unknown currency":        `{"rules": [{"currency": "XYZ"}]}`,
		"amount without currency": `{"rules": [{"provider": "bepaid", "auto_approve_max": 10000}]}`,
		"amount in any currency":  `{"rules": [{"currency": "*", "decline_above": 10}]}`,
		"bad duration":            `{"approval_timeout": "soon"}`,
		"not json":                `rules: []`,
	} {
		path := filepath.Join(t.TempDir(), "policy.json")
		require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
		_, err := Load(path)
		require.Error(t, err, name)
	}
}

func TestLoad_TheExampleInTheRepositoryIsValid(t *testing.T) {
	p, err := Load("../deploy/policy.example.json")
	require.NoError(t, err)
	require.Equal(t, 8*time.Hour, time.Duration(p.ApprovalTimeout))
	require.Equal(t, 2, p.Decide(req("bank131", "RUB", 10000000, "Ivan")).Approvers)
}

func TestDecide_TheCardHolderIsCheckedToo(t *testing.T) {
	p := load(t, `{"rules": [], "decline_recipients": ["Bad Actor"]}`)
	r := req("bepaid", "BYN", 100, "Somebody Else")
	r.Destination.Card.Holder = "BAD ACTOR"
	require.NotEmpty(t, p.Decide(r).Decline)
}

func TestDecide_InvisibleCharactersDoNotHideADeclinedName(t *testing.T) {
	p := load(t, `{"rules": [], "decline_recipients": ["Bad Actor"]}`)
	for name, recipient := range map[string]string{
		"zero-width space":      "Bad Ac\u200btor",
		"zero-width non-joiner": "B\u200cad Actor",
		"zero-width joiner":     "Bad\u200d Actor",
		"word joiner":           "Bad Act\u2060or",
		"byte order mark":       "\ufeffBad Actor",
		"soft hyphen":           "Bad Ac\u00adtor",
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, "the recipient is on the policy's decline list", p.Decide(req("bepaid", "BYN", 100, recipient)).Decline)
		})
	}
}

func TestDecide_LookAlikeLettersDoNotHideADeclinedName(t *testing.T) {
	p := load(t, `{"rules": [], "decline_recipients": ["Bad Actor", "Плохой Актёр Иванович"]}`)
	for name, recipient := range map[string]string{
		"Cyrillic а in a Latin name":     "B\u0430d Actor",
		"Cyrillic о and с":               "Bad A\u0441t\u043er",
		"Latin o and x in a Cyrillic":    "Плoxой Актёр Иванович",
		"Latin a, e, p, c, k, t, h":      "Плохой Aкtep Иbahobич",
		"fullwidth letters":              "Ｂａｄ Ａｃｔｏｒ",
		"е for ё":                        "Плохой Актер Иванович",
		"Cyrillic upper case look-alike": "В\u0410D ACTOR",
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, "the recipient is on the policy's decline list", p.Decide(req("bepaid", "BYN", 100, recipient)).Decline)
		})
	}
	require.Empty(t, p.Decide(req("bepaid", "BYN", 100, "Good Actor")).Decline, "another name is not declined")
}

func transfer(sender payout.TransferSender, recipient payout.TransferRecipient) payout.Request {
	r := req("bank131", "TJS", 100, "Somebody Else")
	r.Transfer = &payout.Transfer{Sender: sender, Recipient: recipient}
	return r
}

func TestDecide_ScreensTheTransferParties(t *testing.T) {
	p := load(t, `{"rules": [], "decline_recipients": ["Bad Actor", "Иванов Иван Иванович"]}`)
	olga := payout.TransferSender{FirstName: "Olga", LastName: "Pahmutova"}
	maksim := payout.TransferRecipient{FirstName: "Maksim", LastName: "Pahmutov"}
	tests := []struct {
		name    string
		req     payout.Request
		decline string
	}{
		{"the transfer's sender", transfer(payout.TransferSender{FirstName: "Bad", LastName: "Actor"}, maksim),
			"the transfer's sender is on the policy's decline list"},
		{"the transfer's recipient", transfer(olga, payout.TransferRecipient{FirstName: "Bad", LastName: "Actor"}),
			"the transfer's recipient is on the policy's decline list"},
		{"a middle name the list leaves out", transfer(payout.TransferSender{FirstName: "Bad", MiddleName: "B.", LastName: "Actor"}, maksim),
			"the transfer's sender is on the policy's decline list"},
		{"a middle name the list has", transfer(olga, payout.TransferRecipient{FirstName: "Иван", MiddleName: "Иванович", LastName: "Иванов"}),
			"the transfer's recipient is on the policy's decline list"},
		{"look-alike letters in the sender's name", transfer(payout.TransferSender{FirstName: "B\u0430d", LastName: "A\u0441tor"}, maksim),
			"the transfer's sender is on the policy's decline list"},
		{"a zero-width space in the recipient's name", transfer(olga, payout.TransferRecipient{FirstName: "Bad", LastName: "Ac\u200btor"}),
			"the transfer's recipient is on the policy's decline list"},
		{"neither", transfer(olga, maksim), ""},
		{"fewer words than the entry", transfer(olga, payout.TransferRecipient{FirstName: "Иван", LastName: "Иванов"}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.decline, p.Decide(tt.req).Decline)
		})
	}
}

func TestDecide_WordOrderDoesNotHideADeclinedName(t *testing.T) {
	p := load(t, `{"rules": [], "decline_recipients": ["Иван Иванович Иванов"]}`)
	require.Equal(t, "the recipient is on the policy's decline list", p.Decide(req("bank131", "RUB", 100, "Иванов Иван Иванович")).Decline)
}

func TestDecide_AnEmptyEntryDeclinesNobody(t *testing.T) {
	p := load(t, `{"rules": [], "decline_recipients": ["", " . "]}`)
	r := transfer(payout.TransferSender{}, payout.TransferRecipient{})
	require.Empty(t, p.Decide(r).Decline)
}
