// Package policy decides, from configuration, what approval a payout needs: declined outright, approved by policy
// alone, or approved by one or two people. The verdict is taken when a payout is created and travels with it, so a
// change of policy applies to new payouts and never to running ones.
package policy

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/payoutflow/payoutflow/payout"
)

// Actor is who decides when policy does.
const Actor = "policy"

// Policy is the approval policy, read from a JSON file (README, "Approval policy").
type Policy struct {
	// ApprovalTimeout is how long a payout waits for people before it is cancelled; 0 keeps the engine's default.
	ApprovalTimeout Duration `json:"approval_timeout,omitempty"`
	// Rules are tried in order; the first that matches the payout applies. With none matching, one person approves.
	Rules []Rule `json:"rules"`
	// DeclineRecipients are full names declined outright: of the recipient, the card holder, a transfer's recipient
	// or sender. Case, spacing, punctuation, accents, invisible characters, look-alike letters and word order do not
	// count (nameKey).
	DeclineRecipients []string `json:"decline_recipients,omitempty"`
}

// Rule applies to payouts of a provider, method and currency ("" or "*" match any). Amounts are in minor units.
type Rule struct {
	Name     string `json:"name,omitempty"`
	Provider string `json:"provider,omitempty"`
	Method   string `json:"method,omitempty"`
	Currency string `json:"currency,omitempty"`
	// AutoApproveMax: payouts up to this amount are approved by policy alone.
	AutoApproveMax *int64 `json:"auto_approve_max,omitempty"`
	// TwoApproversFrom: payouts of this amount and more need two different people to approve.
	TwoApproversFrom *int64 `json:"two_approvers_from,omitempty"`
	// DeclineAbove: payouts above this amount are declined outright.
	DeclineAbove *int64 `json:"decline_above,omitempty"`
}

// Verdict is what the policy decided for one payout.
type Verdict struct {
	// Decline, when set, is why the payout is declined outright.
	Decline string `json:"decline,omitempty"`
	// AutoApprove, when set, is why policy approves the payout alone.
	AutoApprove string `json:"auto_approve,omitempty"`
	// Approvers is how many different people must approve otherwise (at least 1).
	Approvers int `json:"approvers,omitempty"`
	// ApprovalTimeout is the policy's deadline for people, 0 for the engine's default.
	ApprovalTimeout time.Duration `json:"approval_timeout,omitempty"`
	// Rule names the rule applied, for the record.
	Rule string `json:"rule,omitempty"`
}

// Default is the policy without a file: every payout is approved by one person.
var Default = &Policy{}

// Load reads and checks a policy file.
func Load(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	var p Policy
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("policy: %s: %w", path, err)
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("policy: %s: %w", path, err)
	}
	return &p, nil
}

func (p *Policy) check() error {
	for i, r := range p.Rules {
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("rule %d", i+1)
		}
		for _, v := range []*int64{r.AutoApproveMax, r.TwoApproversFrom, r.DeclineAbove} {
			if v != nil && *v < 0 {
				return fmt.Errorf("%s: amounts must not be negative", name)
			}
			if v != nil && (r.Currency == "" || r.Currency == "*") {
				return fmt.Errorf("%s: a rule with amounts must name its currency: minor units of one currency are not those of another", name)
			}
		}
		if r.AutoApproveMax != nil && r.TwoApproversFrom != nil && *r.AutoApproveMax >= *r.TwoApproversFrom {
			return fmt.Errorf("%s: auto_approve_max must be below two_approvers_from", name)
		}
		if r.Currency != "" && r.Currency != "*" && !payout.KnownCurrency(r.Currency) {
			return fmt.Errorf("%s: currency %q is not a supported ISO 4217 code", name, r.Currency)
		}
	}
	if p.ApprovalTimeout < 0 {
		return fmt.Errorf("approval_timeout must not be negative")
	}
	return nil
}

// Decide returns the verdict for a payout request.
func (p *Policy) Decide(req payout.Request) Verdict {
	v := Verdict{Approvers: 1, ApprovalTimeout: time.Duration(p.ApprovalTimeout)}
	if who := p.declined(req); who != "" {
		v.Decline = who + " is on the policy's decline list"
		return v
	}
	for i, r := range p.Rules {
		if !match(r.Provider, req.Provider) || !match(r.Method, req.Method()) || !match(r.Currency, req.Amount.Currency) {
			continue
		}
		v.Rule = r.Name
		if v.Rule == "" {
			v.Rule = fmt.Sprintf("rule %d", i+1)
		}
		amount := req.Amount.Value
		switch {
		case r.DeclineAbove != nil && amount > *r.DeclineAbove:
			v.Decline = fmt.Sprintf("%s is above the limit of %s (%s)", req.Amount, payout.Amount{Value: *r.DeclineAbove, Currency: req.Amount.Currency}, v.Rule)
		case r.AutoApproveMax != nil && amount <= *r.AutoApproveMax:
			v.AutoApprove = fmt.Sprintf("%s is within the automatic approval limit of %s (%s)", req.Amount, payout.Amount{Value: *r.AutoApproveMax, Currency: req.Amount.Currency}, v.Rule)
		case r.TwoApproversFrom != nil && amount >= *r.TwoApproversFrom:
			v.Approvers = 2
		}
		return v
	}
	return v
}

// declined names the first party of the payout on the decline list, "" when none is: the recipient (by full name
// and card holder) and, for a transfer, the transfer's recipient and sender, with and without their middle names.
func (p *Policy) declined(req payout.Request) string {
	type party struct{ who, name string }
	parties := []party{{"the recipient", req.Recipient.FullName}}
	if c := req.Destination.Card; c != nil {
		parties = append(parties, party{"the recipient", c.Holder})
	}
	if t := req.Transfer; t != nil {
		r, s := t.Recipient, t.Sender
		parties = append(parties,
			party{"the transfer's recipient", r.FirstName + " " + r.MiddleName + " " + r.LastName},
			party{"the transfer's recipient", r.FirstName + " " + r.LastName},
			party{"the transfer's sender", s.FirstName + " " + s.MiddleName + " " + s.LastName},
			party{"the transfer's sender", s.FirstName + " " + s.LastName})
	}
	declined := make(map[string]bool, len(p.DeclineRecipients))
	for _, name := range p.DeclineRecipients {
		if k := nameKey(name); k != "" {
			declined[k] = true
		}
	}
	for _, party := range parties {
		if declined[nameKey(party.name)] {
			return party.who
		}
	}
	return ""
}

// nameKey is a name as the decline list compares it: the words of payout.NormalizeName in sorted order, so that
// neither case, spacing, punctuation, accents, invisible characters, look-alike letters nor word order count.
func nameKey(name string) string {
	words := strings.Fields(payout.NormalizeName(name))
	slices.Sort(words)
	return strings.Join(words, " ")
}

func match(pattern, value string) bool {
	return pattern == "" || pattern == "*" || strings.EqualFold(pattern, value)
}

// Duration is a time.Duration read from JSON as "24h" or "30m".
type Duration time.Duration

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"24h\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }
