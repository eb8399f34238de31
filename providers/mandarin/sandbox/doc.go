// Package sandbox simulates Mandarin's API for the engine's tests, `make run` and the chaos run, from the seed
// documents and apart from the client in package mandarin. It is never linked into cmd/worker or cmd/api.
//
// Sandbox is an http.Handler: the API at the same paths with X-Auth (401 for a bad one or a requestId seen
// before), the payment page at /Pay, and the executed payouts as JSON at GET /_sandbox/ledger. It refuses an
// invalid create with 400 {"error": "Invalid request: <field>"} and a create whose orderId belongs to a payout that
// succeeded or is in progress with the documented 400 duplicate answer (errorCode -2); after a failed (or rejected)
// payout the orderId may be used again. Payouts are decided after Delay (20 ms by default):
//
//	target.card 0eb51e74-e704-4c36-b5cb-8f0227621518  succeeds (Mastercard •4444)
//	target.card 5d0e7ae2-1c5e-4b8f-9a3c-7e1f2d3c4b5a  fails (Visa •0002); an unknown token is refused
//	knownCardNumber 4012888888881881 (any valid)      succeeds
//	knownCardNumber 4000000000000002                  fails
//	no target (payment page)                          answers userWebLink <sandbox>/Pay?transaction=<id>;
//	                                                  POST card_number there to pay (same card rules)
//	SBP +79001234567                                  succeeds; without the name its status gives
//	                                                  fio "Petr Ivanovich S."
//	SBP +79007654321                                  succeeds; without the name its status gives
//	                                                  fio "Ivan Ivanovich Ivanov"
//	SBP any other phone                               fails (SBP status fail)
//
// An SBP payout without the name has SBP status pending until Delay, then success with the fio (or fail), and
// waits: confirm executes it at once (confirming again answers 200), reject fails it with no callback. The bank
// list is SandboxBanks (filter bankName, any case). Each channel (openbank_direct, psb_direct) starts with
// 1 000 000.00 RUB; payouts are paid from SandboxConfig.Channel (openbank_direct) and fail with "Insufficient
// funds" when it is short; SetBalance sets a balance. An executed payout gets exactly one ledger entry. Callbacks
// of final payouts (form-urlencoded, signed) go to urls.callback in order per transaction and are retried until
// answered 200 with body OK: 20 attempts, 50 ms apart at first, doubling up to 5 s.
//
// FailNext(n) makes the next n accepted creates go on as usual but answer 504 with no body: the payout happened
// and its answer was lost, the case the duplicate orderId resolves.
//
// The sandbox keeps no card number: transactions hold the card's brand, first six and last four digits. NewSandbox
// keeps everything in memory; OpenSandbox with StateFile also saves transactions, ledger, balances and the id
// counter (mode 0600, replaced atomically) after every change, and on opening decides what was pending and resends
// callbacks not answered. Seen requestIds and FailNext are not saved. A state file that cannot be decoded is moved
// aside to <name>.corrupt-<unix seconds>.
package sandbox
