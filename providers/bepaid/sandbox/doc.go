// Package sandbox simulates bePaid's API for the engine's tests, `make run` and the chaos run, from the seed
// documents and apart from the client in package bepaid. It is never linked into cmd/worker or cmd/api.
//
// Sandbox is an http.Handler: the API at the same paths, with the shop's Basic credentials (401 otherwise), and the
// executed payouts as JSON at GET /_sandbox/ledger (no credentials). It validates a payout request as bePaid would
// and refuses it with 422 and the documented error body naming each wrong field: amount > 0, currency three
// upper-case letters, description required (≤ 255), tracking_id ≤ 255, language one of bePaid's, URLs absolute
// http(s), and the card: a number of 12 to 19 digits passing the Luhn check with holder (≤ 32), exp_month 01-12
// (an integer, or a two-digit string as in seed 003's example) and exp_year an integer of four digits not in the
// past (a string exp_year is refused, as seed 003 types it), or a token it knows. With duplicate_check on (the default), the same
// amount to the same card number or token within 30 s of an earlier request is refused with 422, message and
// errors.base "Duplicate transaction: ...", and nothing happens. The card decides what happens:
//
//	4200000000000000 (and any other valid card)  successful at once: one ledger entry, a notification
//	4005550000000019                             failed at once: "Payout was declined", bank_code 05,
//	                                             nothing in the ledger, a notification
//	4012888888881881                             pending; successful after Delay (20 ms by default): one
//	                                             ledger entry, a notification
//	token b4469f38-cec7-4f55-a86d-2ab2dc300e0b   successful at once, to a Mastercard •4444
//	token 0f6a3c1e-7d2b-4e59-9c84-5b1d2e3f4a60   failed at once, like 4005550000000019, a Visa •0019
//
// With a verification_url, the sandbox posts the transaction (still pending) to it, signed and with the shop's
// credentials, before it decides the payout: within the payout request for an immediate outcome, after Delay for a
// pending one. Only HTTP 200 with code 0 and the transaction's uid and amount lets it go on; a non-zero code, any
// other status or body, or no answer within 10 s fails the payout with the answer's message or "Verification
// declined", and nothing is paid. Notifications of a final status go to notification_url, signed, with the shop's
// credentials, in order per transaction, and are retried until answered 200: 20 attempts, 50 ms apart at first,
// doubling up to 5 s.
//
// FailNext(n) makes the next n accepted payout requests execute as usual but answer 504 with no body: the payout
// happened and its answer was lost, the case that Provider.Status by tracking_id resolves.
//
// The sandbox keeps no card number, not even a hash of one that could be checked later: transactions hold the card
// as bePaid shows it (holder, brand, bin, last four digits), and the stamp and duplicate_check use a hash keyed by a
// secret that lives in memory only, so stamps change when the sandbox restarts. NewSandbox keeps everything in
// memory; OpenSandbox with SandboxConfig.StateFile also saves transactions, ledger and the ID counter to that JSON
// file (mode 0600, replaced atomically) after every change, and on opening resumes what was in flight: a payout not
// yet decided is decided after Delay (verification asked again), a payout is executed at most once, and the
// notification of a final payout is sent again unless it was answered 200. duplicate_check's memory of recent
// requests and FailNext are not saved. A state file that cannot be decoded is moved aside to
// <name>.corrupt-<unix seconds> and the sandbox starts empty.
package sandbox
