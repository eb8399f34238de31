package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/payoutflow/payoutflow/payout"
)

// The helpers here use no *testing.T, for benchmarks and goroutines.

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func rawCreate(key string) (string, error) {
	req, err := http.NewRequest(http.MethodPost, st.api.URL+"/v1/payouts", strings.NewReader(cardPayout(cardSucceeds)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("Authorization", "Bearer "+st.secrets["backend"])
	res, err := rawClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var s payout.State
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil || res.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("create %s: status %d: %v", key, res.StatusCode, err)
	}
	return s.ID, nil
}

func rawWait(id string, want payout.Status) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		req, err := http.NewRequest(http.MethodGet, st.api.URL+"/v1/payouts/"+id, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+st.secrets["backend"])
		res, err := rawClient.Do(req)
		if err != nil {
			return err
		}
		var s payout.State
		err = json.NewDecoder(res.Body).Decode(&s)
		res.Body.Close()
		if err != nil {
			return err
		}
		if s.Status == want {
			return nil
		}
		if s.Status.Final() {
			return fmt.Errorf("payout %s ended %s, want %s", id, s.Status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("payout %s never became %s", id, want)
}
