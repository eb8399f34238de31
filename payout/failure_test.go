package payout

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func testFailureTable() {
	SetFailureTable("testbank", FailureTable{"bank_says_no": FailureDeclinedByIssuer, "nsf": FailureInsufficientFunds})
}

func TestProviderFailure_MapsByTheProvidersTableAndKeepsItsWords(t *testing.T) {
	testFailureTable()
	rows := []struct {
		name, code, message string
		want                Failure
		known               bool
	}{
		{"known code", "bank_says_no", "Declined by issuer",
			Failure{Code: FailureDeclinedByIssuer, Description: "Declined by issuer", ProviderCode: "bank_says_no", ProviderMessage: "Declined by issuer"}, true},
		{"known code without words", "nsf", "",
			Failure{Code: FailureInsufficientFunds, Description: FailureWords(FailureInsufficientFunds), ProviderCode: "nsf"}, true},
		{"unknown code is the default", "E42", "odd",
			Failure{Code: FailureProviderRejected, Description: "odd", ProviderCode: "E42", ProviderMessage: "odd"}, false},
		{"no code is a decline without reason", "", "",
			Failure{Code: FailureDeclined, Description: FailureWords(FailureDeclined)}, true},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			f, known := ProviderFailure("testbank", r.code, r.message)
			require.Equal(t, r.want, f)
			require.Equal(t, r.known, known)
		})
	}
}

func TestProviderFailure_UnregisteredProviderGetsTheDefault(t *testing.T) {
	f, known := ProviderFailure("nobank", "bank_says_no", "")
	require.False(t, known)
	require.Equal(t, FailureProviderRejected, f.Code)
}

func TestNormaliseFailure_ReadsEveryRecordedFailureInTheVocabulary(t *testing.T) {
	testFailureTable()
	rows := []struct {
		name    string
		state   State
		want    *Failure
		unknown string
	}{
		{"release 1 provider code", State{Provider: "testbank", Status: StatusFailed, Failure: &Failure{Code: "bank_says_no", Description: "no"}},
			&Failure{Code: FailureDeclinedByIssuer, Description: "no", ProviderCode: "bank_says_no", ProviderMessage: "no"}, ""},
		{"release 1 unknown provider code", State{Provider: "testbank", Status: StatusFailed, Failure: &Failure{Code: "E42"}},
			&Failure{Code: FailureProviderRejected, Description: FailureWords(FailureProviderRejected), ProviderCode: "E42"}, "E42"},
		{"release 1 own code", State{Provider: "testbank", Status: StatusFailed, Failure: &Failure{Code: "insufficient_balance", Description: "short"}},
			&Failure{Code: FailureInsufficientFunds, Description: "short"}, ""},
		{"release 1 failure without a provider code", State{Provider: "testbank", Status: StatusFailed, Failure: &Failure{Code: "provider_failed"}},
			&Failure{Code: FailureDeclined, Description: FailureWords(FailureDeclined)}, ""},
		{"own code of the vocabulary", State{Provider: "testbank", Status: StatusFailed, Failure: &Failure{Code: FailureMarkedFailed, Description: "by bob"}},
			&Failure{Code: FailureMarkedFailed, Description: "by bob"}, ""},
		{"already mapped", State{Provider: "testbank", Status: StatusFailed, Failure: &Failure{Code: FailureDeclinedByIssuer, ProviderCode: "bank_says_no"}},
			&Failure{Code: FailureDeclinedByIssuer, ProviderCode: "bank_says_no"}, ""},
		{"cancelled by policy", State{Status: StatusCancelled, Approval: &Approval{By: ActorPolicy, Reason: "over the limit"}},
			&Failure{Code: FailureCancelledByPolicy, Description: "over the limit"}, ""},
		{"cancelled by a person", State{Status: StatusCancelled, Approval: &Approval{By: "alice", Reason: "wrong card"}},
			&Failure{Code: FailureCancelledByOperator, Description: "cancelled by alice: wrong card"}, ""},
		{"approval deadline", State{Status: StatusCancelled, Approval: &Approval{By: ActorSystem, Reason: ApprovalDeadlineReason}},
			&Failure{Code: FailureApprovalExpired, Description: ApprovalDeadlineReason}, ""},
		{"amount mismatch", State{Status: StatusCancelled, Approval: &Approval{By: ActorSystem, Reason: "the provider is ready to pay 1.00 RUB"}},
			&Failure{Code: FailureAmountMismatch, Description: "the provider is ready to pay 1.00 RUB"}, ""},
		{"cancelled at the provider", State{Status: StatusCancelled, Approval: &Approval{Approved: true, By: "alice"}},
			&Failure{Code: FailureCancelledByProvider, Description: FailureWords(FailureCancelledByProvider)}, ""},
		{"succeeded has none", State{Status: StatusSucceeded}, nil, ""},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			s := r.state
			require.Equal(t, r.unknown, s.NormaliseFailure())
			require.Equal(t, r.want, s.Failure)
			again := s
			again.NormaliseFailure()
			require.Equal(t, s.Failure, again.Failure, "normalising twice changes nothing")
		})
	}
}

func TestFailure_ReadsTheJSONOfRelease1(t *testing.T) {
	testFailureTable()
	var s State
	require.NoError(t, json.Unmarshal([]byte(`{"provider":"testbank","status":"failed","failure":{"code":"bank_says_no","description":"Declined"}}`), &s))
	s.NormaliseFailure()
	b, err := json.Marshal(s.Failure)
	require.NoError(t, err)
	require.JSONEq(t, `{"code":"declined_by_issuer","description":"Declined","provider_code":"bank_says_no","provider_message":"Declined"}`, string(b))
}

func TestFailureCodes_EveryCodeHasWords(t *testing.T) {
	for _, c := range FailureCodes() {
		require.NotEmpty(t, FailureWords(c), c)
		require.True(t, IsFailureCode(c))
	}
	require.False(t, IsFailureCode("declined_by_issuer_bank"))
}
