// Package bepaid is the bePaid (beGateway) payout provider: a client for its card gateway API, verification of its
// notifications and verification requests, and a sandbox that speaks the same wire format.
//
// # Flow
//
// A card payout is one request, POST /transactions/payouts with {"request": {...}}: our payout ID goes as
// tracking_id, duplicate_check is on, and the card is given by number (with holder and expiry) or by token. The
// answer, {"transaction": {...}}, is final at once (successful or failed) or pending; a pending payout ends with a
// notification to notification_url and can be looked up by uid (GET /transactions/{uid}) or by tracking_id (GET
// /v2/transactions/tracking_id/{id}). There is no session and no confirm step: Provider.Open returns the ref as it
// is, and Confirm and Cancel fail with the Known code not_supported. With a verification_url, bePaid asks it before
// it completes the payout; an answer of code 0 lets it go on, anything else fails it.
//
// Requests carry HTTP Basic auth, shop id and secret key. Notifications and verification requests carry the same
// credentials and a Content-Signature header: the base64 RSA PKCS#1 v1.5 SHA-256 signature of the raw body, made
// with the shop's private key, which bePaid holds; the back office shows the public key as bare base64 DER
// (ParsePublicKey reads it, and PEM too). Webhooks believes a valid signature (NotifyAuthSignature, the default),
// the credentials (NotifyAuthBasic, only when asked for) or both (NotifyAuthBoth); what is sent must verify.
//
// # Errors
//
// Client calls fail with *providers.Error. A bank's decline is no error: it comes as HTTP 200 with the transaction
// failed. The outcome of a failed call is Known when nothing left the process, or when bePaid answered a 4xx with
// its error body, read in either shape, {"message":...,"errors":{...}} or {"response":{...}}: the code is the API v3
// code when given, else validation_error (422), unauthorized (401), forbidden (403), not_found (404) or bad_request,
// and the description is the message, card numbers withheld. A duplicate_check refusal (a 4xx whose message or
// errors.base says "duplicate") is Unknown and Exists, code duplicate_request: the request did nothing, but the
// identical one before it exists and may pay out, so look it up by tracking_id and never send it again. Timeouts, transport errors, 5xx, redirects, answers
// that are not bePaid's and 2xx answers without a transaction are Unknown too. Provider.Status answers
// StateCreated only when bePaid lists no payout for the tracking_id; a payout still being processed may not be listed
// yet, so the workflow sends again only after bePaid has listed none for its settling period (SettlePeriod).
//
// # Sandbox
//
// The sandbox that speaks the same wire format is package sandbox (providers/bepaid/sandbox), kept out of the
// production binaries.
package bepaid
