package api

import "github.com/payoutflow/payoutflow/payout"

// maskedPath returns a request's path or query as it may be logged and traced: a card number in it (a caller's bug
// or a probe puts one where a payout id goes) masked as card numbers may be shown.
func maskedPath(p string) string {
	if !payout.LooksLikeCardNumber(p) {
		return p
	}
	return string(payout.MaskCardNumbers([]byte(p)))
}

// probePaths are the routes probes hit every few seconds, access-logged at DEBUG only.
var probePaths = map[string]bool{"/livez": true, "/readyz": true, "/healthz": true}
