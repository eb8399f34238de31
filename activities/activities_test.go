package activities

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
)

func TestVerifyDecision_AnyKeyOfTheKeyringVouches(t *testing.T) {
	current, retired, foreign := []byte("current"), []byte("retired"), []byte("foreign")
	a := New([][]byte{current, retired})
	tests := []struct {
		name  string
		proof string
		want  bool
	}{
		{"signed with the current key", payout.SignDecision(current, "po-1", "confirm", "alice"), true},
		{"signed before the rotation", payout.SignDecision(retired, "po-1", "confirm", "alice"), true},
		{"signed with a key not in the keyring", payout.SignDecision(foreign, "po-1", "confirm", "alice"), false},
		{"signed for someone else", payout.SignDecision(current, "po-1", "confirm", "bob"), false},
		{"no proof", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proof := tt.proof
			ok, err := a.VerifyDecision(context.Background(), DecisionCheck{PayoutID: "po-1", Signal: "confirm", By: "alice", Proof: proof})
			require.NoError(t, err)
			require.Equal(t, tt.want, ok)
		})
	}
}
