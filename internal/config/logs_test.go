package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/payoutflow/payoutflow/activities"
)

func TestLoad_LogFormatIsTextOrJSON(t *testing.T) {
	for _, tc := range []struct{ value, want, wantErr string }{
		{"", LogText, ""},
		{"text", LogText, ""},
		{"json", LogJSON, ""},
		{" json ", LogJSON, ""},
		{"JSON", "", `LOG_FORMAT: "JSON" is not one of text, json`},
		{"logfmt", "", `LOG_FORMAT: "logfmt" is not one of text, json`},
	} {
		t.Run(tc.value, func(t *testing.T) {
			isolate(t)
			t.Setenv("LOG_FORMAT", tc.value)
			c, err := LoadDev()
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, c.LogFormat)
		})
	}
}

func TestNewLogHandler_JSONWritesOneObjectALine(t *testing.T) {
	var text, js bytes.Buffer
	slog.New(NewLogHandler(&text, LogText, slog.LevelInfo)).Info("payout created", "payout_id", "po_1", "provider", "bepaid")
	slog.New(NewLogHandler(&js, LogJSON, slog.LevelInfo)).Info("payout created", "payout_id", "po_1", "provider", "bepaid")
	require.Contains(t, text.String(), `msg="payout created" payout_id=po_1 provider=bepaid`)
	var line map[string]any
	require.NoError(t, json.Unmarshal(js.Bytes(), &line))
	require.Equal(t, map[string]any{"level": "INFO", "msg": "payout created", "payout_id": "po_1", "provider": "bepaid"},
		without(line, "time"))
}

// The SDK logs every failed activity at ERROR; what the workflow expects and handles itself is no call for a person.
func TestSDKLogger_ErrorIsKeptForWhatAPersonMustActOn(t *testing.T) {
	const wf = "po_0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"an outcome the workflow looks up", temporal.NewApplicationError("timeout", activities.ErrUnknownOutcome), "DEBUG"},
		{"a provider's refusal", temporal.NewNonRetryableApplicationError("refused", activities.ErrRejected, nil), "DEBUG"},
		{"an event the backend did not take this time", temporal.NewApplicationError("503", activities.ErrEventDelivery), "DEBUG"},
		{"a worker without the provider", temporal.NewNonRetryableApplicationError("not configured", activities.ErrConfig, nil), "ERROR"},
		{"anything else", errors.New("boom"), "ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := SDKLogger(slog.New(NewLogHandler(&buf, LogJSON, slog.LevelDebug)))
			// As the SDK logs an activity error: its tags passed with the line.
			log.Error("Activity error.", "WorkflowID", wf, "ActivityType", "Submit", "Error", tc.err)
			var line map[string]any
			require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
			require.Equal(t, tc.want, line["level"])
			require.Equal(t, wf, line["payout_id"], "the workflow's id names the payout")
			require.Equal(t, "temporal-sdk", line["component"])
		})
	}
	t.Run("a level the handler drops stays dropped", func(t *testing.T) {
		var buf bytes.Buffer
		log := SDKLogger(slog.New(NewLogHandler(&buf, LogJSON, slog.LevelInfo)))
		log.Error("Activity error.", "Error", temporal.NewApplicationError("timeout", activities.ErrUnknownOutcome))
		require.Empty(t, buf.String())
	})
	t.Run("a logger made With the workflow's tags names the payout", func(t *testing.T) {
		var buf bytes.Buffer
		log := sdklog.With(SDKLogger(slog.New(NewLogHandler(&buf, LogJSON, slog.LevelInfo))), "WorkflowID", wf)
		log.Info("Workflow task")
		require.True(t, strings.Contains(buf.String(), `"payout_id":"`+wf+`"`), buf.String())
	})
}

func without(m map[string]any, key string) map[string]any {
	delete(m, key)
	return m
}
