// Package bank131 is the Bank 131 payout provider: a client for its session API (v1 field names), webhook
// verification and translation, and a sandbox that speaks the same wire format.
//
// # Flow
//
// A card payout takes a session created first (session/create, metadata = our payout ID), then
// session/start/payout with the card number. The bank answers ready_to_confirm by webhook; session/confirm
// executes the payout (or session/cancel drops it), and payment_finished reports the result. Every request is
// signed: X-PARTNER-SIGN is the base64 RSA PKCS#1 v1.5 SHA-256 signature of the exact body bytes, by the
// partner's key; webhooks carry the same header, signed by the bank's key.
//
// # Errors
//
// Client calls fail with *providers.Error. The outcome is Known only when nothing left the process, or when the
// bank answered with its error object (HTTP 4xx, or 2xx with "status":"error"), except internal_error and
// idempotency_key_already_exists, which leave it Unknown. Timeouts, transport errors, 5xx, answers that are not
// the bank's and unreadable 2xx bodies are Unknown: ask session/status before trying again.
//
// # Sandbox
//
// Sandbox is an http.Handler: the API under /api/v1/ (signed requests, same paths, bodies and error codes) and the
// executed payouts as JSON at GET /_sandbox/ledger. It keeps no card number, only brand and last four digits.
// NewSandbox keeps everything in memory; OpenSandbox with SandboxConfig.StateFile also saves sessions, ledger,
// idempotency keys and the ID counter to that JSON file (mode 0600, replaced atomically) after every change, and
// on opening resumes what was in flight: a step not yet taken is scheduled again, a payout executes at most once,
// and the webhook a session's state calls for (ready_to_confirm while it waits for confirmation, payment_finished
// once final) is sent again unless it was answered 200. A state file that cannot be decoded is moved aside to
// <name>.corrupt-<unix seconds> and the sandbox starts empty. The card number decides what happens:
//
//	4242424242424242 (and any other valid card)  ready_to_confirm; after confirm the payout succeeds:
//	                                             payment_finished, payment succeeded, session accepted,
//	                                             one ledger entry
//	4000000000000002                             declined by the issuer: no ready_to_confirm; payment_finished,
//	                                             payment failed (declined_by_issuer_bank), session error,
//	                                             nothing in the ledger
//	4000000000000119                             ready_to_confirm; after confirm the payout fails:
//	                                             payment_finished, payment failed (provider_issuer_unavailable),
//	                                             session error, nothing in the ledger
//
// Card numbers must be 14 to 19 digits and pass the Luhn check; the currency must be rub and the amount positive.
// Cancel is allowed before start and while the payout waits for confirmation (payment failed with
// session_cancelled_by_partner, session cancelled, no webhook). An X-PARTNER-IDEMPOTENCY-KEY seen before for the
// same method is answered 400 idempotency_key_already_exists and changes nothing. Each asynchronous step happens
// WebhookDelay (20 ms by default) after the call that caused it. Webhooks for a session go out in order and are
// retried until answered 200: 20 attempts, 50 ms apart at first, doubling up to 5 s.
package bank131
