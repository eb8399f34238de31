package integration

import (
	"context"
	"errors"
	"fmt"
	"time"

	pfclient "github.com/payoutflow/payoutflow/client"
)

// The Go client's examples run against the real stack of this package (TestMain starts it): a backend creates a
// payout, an operator approves it, and the backend waits for it to end. They send through rawClient, the tests'
// http.Client that checks every request and answer against the contract (api/openapi.yaml); a backend passes its
// own, or none.

// Example_clientCreateConfirmWait creates a card payout under the backend's own idempotency key (its order), has an
// operator confirm it, and waits for it to be paid.
func Example_clientCreateConfirmWait() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	backend, err := pfclient.New(st.api.URL, st.secrets["backend"], pfclient.WithHTTPClient(rawClient))
	if err != nil {
		panic(err)
	}
	order := fmt.Sprintf("order-%d", time.Now().UnixNano())
	p, err := backend.Create(ctx, pfclient.CreateRequest{
		Provider: "bank131",
		Amount:   pfclient.Amount{Value: 150000, Currency: "RUB"}, // 1 500.00 ₽, in kopecks
		Destination: pfclient.Destination{Type: pfclient.DestinationCard,
			Card: &pfclient.Card{Number: "4242424242424242"}},
		Recipient:   pfclient.Recipient{FullName: "Ivanov Ivan"},
		Description: "Payout for " + order,
	}, &pfclient.CreateOptions{IdempotencyKey: order})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Response.StatusCode, p.Status, p.Method, p.Destination.Card.Brand, p.Destination.Card.Last4)

	// One person must approve a payout: an operator, with a key of their own.
	if _, err := backend.Wait(ctx, p.ID, pfclient.StatusAwaitingApproval); err != nil {
		panic(err)
	}
	alice, err := pfclient.New(st.api.URL, st.secrets["alice"], pfclient.WithHTTPClient(rawClient))
	if err != nil {
		panic(err)
	}
	d, err := alice.Confirm(ctx, p.ID, "checked the order")
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Accepted)

	done, err := backend.Wait(ctx, p.ID) // any final status
	if err != nil {
		panic(err)
	}
	fmt.Println(done.Status, done.Approval.By)
	// Output:
	// 201 created card_number visa 4242
	// confirm
	// succeeded alice
}

// Example_clientErrors shows the API's errors as the client returns them: typed, with the API's code and the field
// at fault.
func Example_clientErrors() {
	ctx := context.Background()
	backend, err := pfclient.New(st.api.URL, st.secrets["backend"], pfclient.WithHTTPClient(rawClient))
	if err != nil {
		panic(err)
	}
	_, err = backend.Get(ctx, "po_00000000000000000000000000000000")
	fmt.Println(pfclient.IsNotFound(err), pfclient.ErrorCode(err))

	_, err = backend.Create(ctx, pfclient.CreateRequest{
		Provider:    "bank131",
		Amount:      pfclient.Amount{Value: 10000, Currency: "RUB"},
		Destination: pfclient.Destination{Type: pfclient.DestinationCard, Card: &pfclient.Card{Number: "4242424242424241"}},
		Recipient:   pfclient.Recipient{FullName: "Ivanov Ivan"},
	}, nil)
	var e *pfclient.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.Code, e.Field)
	}
	// Output:
	// true payout_not_found
	// 422 invalid_luhn destination.card.number
}

// Example_clientListAndCancel cancels a payout that waits for approval, finds it in the list of cancelled payouts
// (the list is read page by page by the iterator), and reads the SBP banks Bank 131 pays to.
func Example_clientListAndCancel() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	backend, err := pfclient.New(st.api.URL, st.secrets["backend"], pfclient.WithHTTPClient(rawClient),
		pfclient.WithPolling(20*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		panic(err)
	}
	p, err := backend.Create(ctx, pfclient.CreateRequest{
		Provider: "bank131",
		Amount:   pfclient.Amount{Value: 25000, Currency: "RUB"},
		Destination: pfclient.Destination{Type: pfclient.DestinationSBP,
			SBP: &pfclient.SBP{Phone: "+79001310001", BankID: "100000000111"}},
		Recipient:   pfclient.Recipient{FullName: "Ivanov Ivan"},
		Description: "Refund of order 7",
	}, nil) // the client generates the idempotency key, and keeps it across its retries
	if err != nil {
		panic(err)
	}
	if _, err := backend.Wait(ctx, p.ID, pfclient.StatusAwaitingApproval); err != nil {
		panic(err)
	}
	if _, err := backend.Cancel(ctx, p.ID, "the customer changed their mind"); err != nil {
		panic(err)
	}
	done, err := backend.Wait(ctx, p.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(done.Status)

	// The list is read from Temporal's visibility, which follows the payout within moments.
	found := false
	for !found && ctx.Err() == nil {
		for s, err := range backend.List(ctx, pfclient.ListParams{Status: pfclient.StatusCancelled, Method: pfclient.MethodSBP, Limit: 50}) {
			if err != nil {
				panic(err)
			}
			if s.ID == p.ID {
				found = true
				fmt.Println("listed:", s.Status, s.Method, s.Amount.Value, s.Amount.Currency)
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}

	banks, err := backend.SBPBanks(ctx, "bank131", "bank")
	if err != nil {
		panic(err)
	}
	for _, b := range banks.Banks {
		fmt.Println(b.ID, b.Name)
	}
	// Output:
	// cancelled
	// listed: cancelled sbp 25000 RUB
	// 100000000111 Sberbank
	// 100000000004 T-Bank
	// 100000000005 VTB Bank
	// 100000000008 Alfa-Bank
	// 100000000069 Demo Bank
}
