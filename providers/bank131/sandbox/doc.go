// Package sandbox simulates Bank 131's API for the engine's tests, `make run` and the chaos run, from the seed
// documents and apart from the client in package bank131. It is never linked into cmd/worker or cmd/api.
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
//	Promo rates (SandboxConfig.PromoRates): a transfer at rate 8.8888 must come with X-PARTNER-PROJECT promo_131
//	(the client's Transfer.PromoProjectID), and promo_131 only with that rate (invalid_request otherwise), as
//	seed 002 says
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
package sandbox
