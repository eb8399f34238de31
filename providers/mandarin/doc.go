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
// The sandbox that speaks the same wire format is package sandbox (providers/mandarin/sandbox), kept out of the
// production binaries.
package mandarin
