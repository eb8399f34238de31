package config

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/codec"
)

func TestCodec_KeyringFromEachSourceCurrentKeyFirst(t *testing.T) {
	ka, kb := bytes.Repeat([]byte{1}, codec.KeySize), bytes.Repeat([]byte{2}, codec.KeySize)
	a, b := base64.StdEncoding.EncodeToString(ka), base64.StdEncoding.EncodeToString(kb)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "codec.keys")
	require.NoError(t, os.WriteFile(keyFile, []byte("# rotated 2026-12-06\nnew "+b+"\nold "+a+"\n"), 0o600))

	tests := []struct {
		name    string
		cfg     Config
		create  bool
		wantIDs []string
		wantErr string
	}{
		{"CODEC_KEYS", Config{CodecKeys: "new:" + b + ",old:" + a}, false, []string{"new", "old"}, ""},
		{"CODEC_KEY_FILE", Config{CodecKeyFile: keyFile}, false, []string{"new", "old"}, ""},
		{"CODEC_KEY is a keyring of one, its id derived as release 1 wrote it", Config{CodecKey: a}, false, []string{codec.DerivedID(ka)}, ""},
		{"dev makes a keyring file of one key", Config{DataDir: filepath.Join(dir, "data")}, true, nil, ""},
		{"the worker and the API want a key", Config{}, false, nil, "set CODEC_KEYS"},
		{"two sources are one too many", Config{CodecKeys: "new:" + b, CodecKey: a}, false, nil, "CODEC_KEYS and CODEC_KEY are both set"},
		{"a bad entry names its source", Config{CodecKeys: "new:" + b + ",old:short"}, false, nil, "CODEC_KEYS: keyring entry 2"},
		{"a missing file", Config{CodecKeyFile: filepath.Join(dir, "none")}, false, nil, "CODEC_KEY_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cd, keys, err := tt.cfg.Codec(tt.create)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, keys[0].ID, cd.CurrentID())
			if tt.wantIDs == nil {
				require.Len(t, keys, 1)
				require.Equal(t, codec.DerivedID(keys[0].Secret), keys[0].ID)
				again, err := codec.ParseKeyring(mustRead(t, filepath.Join(tt.cfg.DataDir, "keys", "codec.key")))
				require.NoError(t, err)
				require.Equal(t, keys, again, "the file holds the key and its id")
				return
			}
			var ids []string
			for _, k := range keys {
				ids = append(ids, k.ID)
			}
			require.Equal(t, tt.wantIDs, ids)
		})
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}
