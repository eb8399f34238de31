package codec

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// Review of issue 13: a key named with another key's derived id takes that derived id over, so the payloads the other
// key wrote under its derived id (release 1, or a bare CODEC_KEY) go to the wrong key and no longer decrypt.
func TestKeyring_AnIDEqualToAnotherKeysDerivedIDIsRefusedOrDecodesItsPayloads(t *testing.T) {
	a, b := ringKey(1), ringKey(2)
	release1, err := New(a) // payloads named DerivedID(a)
	require.NoError(t, err)
	written, err := release1.Encode([]*commonpb.Payload{mustPayload(t, converter.GetDefaultDataConverter(), map[string]string{"id": "p1"})})
	require.NoError(t, err)

	ring, err := NewKeyring([]Key{{ID: "2026-06", Secret: a}, {ID: DerivedID(a), Secret: b}})
	if err != nil {
		return // refused: the collision is caught
	}
	_, err = ring.Decode(written)
	require.NoError(t, err, "keyring accepted, but a payload of key %q (named %q) no longer decrypts", "2026-06", DerivedID(a))
}

// Review of issue 13: keys separated by a space, not a comma, make the first secret a key id: either an error that
// prints the secret, or (URL-safe base64) a keyring that writes the secret in clear beside every payload.
func TestParseKeyring_TwoKeysSeparatedByASpaceNeitherLeakNorBecomeAnID(t *testing.T) {
	a, b := ringKey(1), ringKey(2)
	for name, first := range map[string]string{"standard base64": base64.StdEncoding.EncodeToString(a), "raw URL base64": base64.RawURLEncoding.EncodeToString(a)} {
		t.Run(name, func(t *testing.T) {
			keys, err := ParseKeyring(first + " " + b64(b))
			require.Error(t, err, "the secret %q became key id %q", first, idOf(keys))
			require.NotContains(t, err.Error(), first, "the error prints a secret")
		})
	}
}

// Review of issue 13: an id with its key missing ("new:") is reported as entry 1 ("") instead of naming "new".
func TestParseKeyring_AnIDWithoutItsKeyIsNamedInTheError(t *testing.T) {
	_, err := ParseKeyring("new:," + b64(ringKey(2)))
	require.Error(t, err)
	require.Contains(t, err.Error(), `"new"`)
}

func idOf(keys []Key) string {
	if len(keys) == 0 {
		return ""
	}
	return keys[0].ID
}
