// Package mandarin is the Mandarin (MandarinPay) payout provider: a client for its API, verification of its
// callbacks, and a sandbox that speaks the same wire format.
//
// # Flow
//
// Every request carries X-Auth: merchantId-sha256hex(merchantId-requestId-secret)-requestId, with a fresh random
// requestId. A payout is one transaction, POST /api/transactions with payment{orderId, action "payout", price},
// where orderId is our payout ID and price a decimal string in roubles converted exactly from kopecks (10000 is
// "100.00"; FormatPrice, integer arithmetic). The target is a card token (target.card), a card number
// (target.knownCardNumber), SBP (target.sbp{bankId, bankBic}, the BIC looked up in GET /api/sbp/banks), or none:
// the payment page, whose userWebLink the recipient opens. The answer is the operation id; the result comes by
// callback and from GET /api/operations/{id}, where only the state success is success and pendingExecution, none,
// unknown (and payout-only, and anything unknown) are pending. Creates get a 600 s timeout, as Mandarin advises.
//
// SBP payouts carry the recipient's name (customerInfo lastName/firstName/middleName from Recipient.FullName,
// "Last First [Middle]") and need no confirmation, or, with payout.SBP.WithoutName, go without it: Status
// then asks POST /api/sbp/{id}/status too, and once the bank has checked the recipient answers
// StateAwaitingConfirm with the bank's name of the recipient in Details[DetailFIO]. Confirm (POST /api/sbp/{id}/confirm)
// sends the money, Cancel (/reject) drops the payout; Ref.PaymentID holds the id they use and is set only for such
// payouts. Confirm and Cancel of any other payout fail Known not_supported.
//
// # Lost answers and orderId
//
// Mandarin keeps orderId unique among payouts that succeeded or are in progress. When a create's answer is lost
// (timeout, 502, 504: Unknown), send it again with the same orderId, which Submit with the same payout ID does: if
// the first one exists, the answer is 400 "Duplicate order id" (errorCode -2), which the client reports as Unknown
// with code duplicate_order_id (never create another: wait for the callback, which carries orderId and the
// operation id); if the first one failed, the new one is made. Mandarin has no lookup by orderId, and Status moves
// no money, so Status without an operation id (Ref.SessionID) does not re-send: it fails Unknown with code
// operation_id_unknown. Other 4xx answers with Mandarin's {"error": ...} body are Known (invalid_request,
// unauthorized, not_found, bad_request, or the errorCode). Errors never hold a card number.
//
// # Callbacks
//
// Callbacks are form-urlencoded POSTs. Webhooks.Translate checks the sign first: all fields but sign, sorted by key,
// values joined with "-", then "-" and the secret, SHA-256 hex, compared in constant time; missing or wrong is
// providers.ErrBadSignature. A transaction callback with status success, failed or fail becomes a payment_finished
// event for the payout named by orderId. Answer it with Webhooks.Acknowledge: HTTP 200, body OK.
//
// Balance (GET /api/account/channels/{openbank_direct|psb_direct}/balance) and the operation status are X-Auth
// calls as the seed gives them; the balance answer's shape is not documented, and the client reads {"balance":
// "1234.56", "currency": "RUB"}.
//
// # Sandbox
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
package mandarin
