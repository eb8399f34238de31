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
// Sandbox is an http.Handler: the API under /api/v1/ (signed requests, same paths, bodies and error codes), the
// executed payouts as JSON at GET /_sandbox/ledger (one entry per executed payout, with its method card, token,
// sbp or transfer and its source account), and a transfer's 3-D Secure page at /_sandbox/3ds/<session id>. It
// keeps no card number and no security code, only brand and last four digits. NewSandbox keeps everything in
// memory; OpenSandbox with SandboxConfig.StateFile also saves sessions, ledger, idempotency keys and the ID counter
// to that JSON file (mode 0600, replaced atomically) after every change, and on opening resumes what was in
// flight: a step not yet taken is scheduled again, a payout executes at most once, and the webhook a session's
// state calls for (ready_to_confirm while it waits for confirmation, action_required while a transfer waits for
// the payer, payment_finished once final) is sent again unless it was answered 200. A state file that cannot be
// decoded is moved aside to <name>.corrupt-<unix seconds> and the sandbox starts empty. SandboxConfig.NoWebhooks
// (or SetNoWebhooks) sends no webhooks: poll session/status. The magic values:
//
//	Cards (any other valid card number behaves like 4242424242424242)
//	4242424242424242  ready_to_confirm; after confirm the payout succeeds: payment_finished, session accepted,
//	                  one ledger entry
//	4000000000000002  declined by the issuer: no ready_to_confirm; payment_finished, failed
//	                  (declined_by_issuer_bank), session error, nothing in the ledger
//	4000000000000119  ready_to_confirm; after confirm the payout fails: payment_finished, failed
//	                  (provider_issuer_unavailable), session error, nothing in the ledger
//	4000000000000101  ready_to_confirm; after confirm the session is in status error (provider_timeout, payout
//	                  in_progress: not final) for SandboxConfig.ErrorHold (3 s by default), then succeeds
//	Tokens (tokenized_card; any other token is unknown: invalid_request from token/info and from a payout)
//	759c9852dde2211d7531b3d905c1d513fbfb914bee87fb567d99c7b2f2c2ad44  visa •4242, behaves like 4242424242424242
//	0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad  mastercard •4444, behaves like 4000000000000002
//	SBP phones (any other +7 and 10 digits behaves like +79001310001)
//	+79001310001      ready_to_confirm; after confirm the payout succeeds
//	+79001310002      refused by the recipient's bank: no ready_to_confirm; payment_finished, failed
//	                  (account_not_found)
//	+79001310003      like 4000000000000101: in status error for a while after confirm, then succeeds
//	SBP banks (fps/banks): 100000000111 Sberbank, 100000000004 T-Bank, 100000000005 VTB Bank,
//	100000000008 Alfa-Bank, 100000000069 Demo Bank; a payout to another bank_id is refused
//	Transfers (session/multi/init): after the delay, action_required with a redirect to /_sandbox/3ds/<session>;
//	a GET or POST there passes 3-D Secure (with result=fail it fails: 3DS_error), then payment_finished:
//	succeeded (recurrent token rt_<n> when asked for), or failed when the recipient card is 4000000000000002
//
// Card numbers must be 14 to 19 digits and pass the Luhn check; a payout's currency must be rub and its amount
// positive; an SBP description must be 1 to 140 characters; a transfer's rates must have exactly four decimal
// places, from rub to the currency of amount_details, and the sender's card needs expiry (MM, YY) and a security
// code of 3 or 4 digits. Init variants go on like a started payout (ready_to_confirm, confirm), as the token payout
// guide says. Cancel is allowed before start and while the payout waits for confirmation (payment failed with
// session_cancelled_by_partner, session cancelled, no webhook). An X-PARTNER-IDEMPOTENCY-KEY seen before for the
// same method is answered 400 idempotency_key_already_exists and changes nothing. Each asynchronous step happens
// WebhookDelay (20 ms by default) after the call that caused it. Webhooks for a session go out in order and are
// retried until answered 200: 20 attempts, 50 ms apart at first, doubling up to 5 s.
package bank131
