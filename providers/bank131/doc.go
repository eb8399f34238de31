// Package bank131 is the Bank 131 provider: a client for its session API (v1 field names), webhook verification
// and translation, and a sandbox that speaks the same wire format.
//
// # Payouts
//
// A payout goes to a card number (bank_card), a card token (tokenized_card; Submit asks token/info first and
// reports the card's brand and last four digits) or a phone by SBP (bank_account, system_type
// faster_payment_system: phone as digits, bank_id from fps/banks, the request's description of at most 140
// characters, roubles only). It takes a session created first (Open: session/create, metadata = our payout ID),
// then session/start/payout. A single-request payout (SingleRequest: Request.SingleRequest, or a SourceAccount)
// is not opened: Submit creates its session with session/init/payout, or session/init/payout/nominal and
// session/init/payout/rko for the nominal and settlement accounts, and returns the session in Outcome.Ref. Either
// way the bank answers ready_to_confirm by webhook; session/confirm executes the payout (or session/cancel drops
// it), and payment_finished reports the result. Status reports the session's status in
// Outcome.Details["session_status"]: "error" is not final, the payout stays pending. Every request is signed:
// X-PARTNER-SIGN is the base64 RSA PKCS#1 v1.5 SHA-256 signature of the exact body bytes (an empty body for the
// GET of fps/banks), by the partner's key; webhooks carry the same header, signed by the bank's key. Money-moving
// calls carry X-PARTNER-IDEMPOTENCY-KEY: <payout ID>:start, :init, :confirm, :cancel or :transfer.
//
// # Transfers
//
// Provider.Transfer starts a cross-border transfer (session/multi/init): the sender's card (with its security
// code, sent to the bank and nowhere else) is charged in roubles and the recipient's card paid in the payout
// currency at rates of exactly four decimal places (Rate, sent as the decimal's text). The bank asks the payer to
// pass 3-D Secure with an action_required webhook, which becomes an EventActionRequired event with the redirect
// in Outcome.Details["redirect_url"]; then payment_finished follows, with no confirm. A recurrent token, when
// asked for and given, comes in Outcome.Details["recurrent_token"].
//
// # Errors
//
// Client calls fail with *providers.Error. The outcome is Known only when nothing left the process, or when the
// bank answered with its error object (HTTP 4xx, or 2xx with "status":"error"), except internal_error, provider_*
// and idempotency_key_already_exists, which leave it Unknown; idempotency_key_already_exists also sets Exists: an
// earlier request with the key was taken, look it up. (A single-request payout has no session id until init
// answers: if that answer is lost, only the bank's support can find the session.) Timeouts, transport errors, 5xx,
// answers that are not the bank's and unreadable 2xx bodies are Unknown: ask session/status before trying again.
// A token that token/info does not know fails Submit with the Known code invalid_token, nothing submitted.
//
// # Sandbox
//
// The sandbox that speaks the same wire format is package sandbox (providers/bank131/sandbox), kept out of the
// production binaries.
package bank131
