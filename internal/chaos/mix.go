package chaos

import "fmt"

// Mix is the i-th payout of a chaos run: every provider and method in turn, with the sandboxes' cards, tokens and
// phones that succeed, and some that fail. Amounts differ from one payout to the next (bePaid refuses the same
// amount to the same card within 30 s), and alternate between what the policy approves alone (up to 50.00) and
// what a person (the driver, by API) approves.
func Mix(i int) string {
	amount := 2000 + int64(i)
	if i%2 == 1 {
		amount = 100000 + int64(i)
	}
	rub := func(destination, extra string) string {
		return fmt.Sprintf(`{"provider":"bank131","amount":{"value":%d,"currency":"RUB"},"destination":%s,`+
			`"recipient":{"full_name":"Ivanov Ivan"},"description":"chaos payout %d"%s}`, amount, destination, i, extra)
	}
	mandarin := func(destination, name string) string {
		return fmt.Sprintf(`{"provider":"mandarin","amount":{"value":%d,"currency":"RUB"},"destination":%s,`+
			`"recipient":{"full_name":%q,"email":"ivan@example.com"},"description":"chaos payout %d"}`, amount, destination, name, i)
	}
	bepaid := func(card string) string {
		return fmt.Sprintf(`{"provider":"bepaid","amount":{"value":%d,"currency":"BYN"},"destination":{"type":"card","card":%s},`+
			`"recipient":{"full_name":"Ivan Ivanov","email":"ivan@example.com","billing_address":{"first_name":"Ivan",`+
			`"last_name":"Ivanov","country":"BY","city":"Minsk"}},"sender":{"document":{"type":"PASSPORT",`+
			`"number":"MP1234567","issued_at":"2010-03-12"}},"description":"chaos payout %d"}`, amount, card, i)
	}
	switch i % 13 {
	case 0:
		return rub(`{"type":"card","card":{"number":"4242424242424242"}}`, "")
	case 1:
		return rub(`{"type":"card","card":{"token":"759c9852dde2211d7531b3d905c1d513fbfb914bee87fb567d99c7b2f2c2ad44"}}`, "")
	case 2:
		return rub(`{"type":"card","card":{"number":"2200000000000004"}}`, `,"single_request":true`)
	case 3:
		return rub(`{"type":"sbp","sbp":{"phone":"+79001310001","bank_id":"100000000111"}}`, "")
	case 4:
		return rub(`{"type":"card","card":{"number":"4000000000000002"}}`, "") // declined
	case 5:
		return bepaid(`{"number":"4200000000000000","holder":"IVAN IVANOV","exp_month":"12","exp_year":"2030"}`)
	case 6:
		return bepaid(`{"token":"b4469f38-cec7-4f55-a86d-2ab2dc300e0b"}`)
	case 7:
		return mandarin(`{"type":"card","card":{"token":"0eb51e74-e704-4c36-b5cb-8f0227621518"}}`, "Ivanov Ivan")
	case 8:
		return mandarin(`{"type":"card","card":{"number":"4012888888881881"}}`, "Ivanov Ivan")
	case 9:
		return mandarin(`{"type":"sbp","sbp":{"phone":"+79001234567","bank_id":"100000000111"}}`, "Иванов Петр Сергеевич")
	case 10:
		return mandarin(`{"type":"sbp","sbp":{"phone":"+79007654321","bank_id":"100000000111","without_name":true}}`,
			"Ivanov Ivan Ivanovich")
	case 11:
		return rub(`{"type":"card","card":{"token":"759c9852dde2211d7531b3d905c1d513fbfb914bee87fb567d99c7b2f2c2ad44"}}`,
			`,"source_account":"nominal"`)
	}
	return fmt.Sprintf(`{"provider":"bank131","amount":{"value":%d,"currency":"TJS"},
	  "destination":{"type":"card","card":{"number":"5058270610441098"}},"recipient":{"full_name":"Pahmutov Maksim"},
	  "transfer":{"source":{"value":%d,"currency":"RUB"},"rate":"9.2222","provider_rate":"8.2200",
	    "provider_tx_id":"chaos-%d","sender":{"first_name":"Olga","last_name":"Pahmutova","citizenship_country":"RUS",
	    "country":"RUS","city":"Moscow","street":"Tverskaya","birth_date":"1998-03-15",
	    "document":{"type":"passport","number":"8008 579120"}},
	    "recipient":{"first_name":"Maksim","last_name":"Pahmutov"},
	    "sender_card":{"number":"4242424242424242","exp_month":"01","exp_year":"2029","cvv":"123"}}}`,
		amount, amount*9, i)
}
