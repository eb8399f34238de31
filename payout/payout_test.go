package payout

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func validRequest() Request {
	return Request{
		Provider:    "testbank",
		Amount:      Amount{Value: 10000, Currency: "RUB"},
		Destination: Destination{Type: DestinationCard, Card: &Card{Number: "4242424242424242"}},
		Recipient:   Recipient{FullName: "Ivanov Ivan"},
		Description: "Payout for order 123",
		Metadata:    map[string]string{"order_id": "123"},
	}
}

func TestValidate_AcceptsAValidRequest(t *testing.T) {
	require.NoError(t, validRequest().Validate(anyProvider{}))
}

func TestValidate_NamesTheWrongField(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Request)
		field  string
		code   string
	}{
		{"no provider", func(r *Request) { r.Provider = "" }, "provider", "required"},
		{"zero amount", func(r *Request) { r.Amount.Value = 0 }, "amount.value", "must_be_positive"},
		{"no currency", func(r *Request) { r.Amount.Currency = "" }, "amount.currency", "required"},
		{"unknown currency", func(r *Request) { r.Amount.Currency = "ABC" }, "amount.currency", "unknown_currency"},
		{"no destination type", func(r *Request) { r.Destination.Type = "" }, "destination.type", "required"},
		{"card and token", func(r *Request) { r.Destination.Card.Token = "tok" }, "destination.card", "ambiguous"},
		{"card object missing", func(r *Request) { r.Destination.Card = nil }, "destination.card", "required"},
		{"luhn", func(r *Request) { r.Destination.Card.Number = "4242424242424243" }, "destination.card.number", "invalid_luhn"},
		{"length", func(r *Request) { r.Destination.Card.Number = "42424242424242424242" }, "destination.card.number", "invalid_length"},
		{"letters", func(r *Request) { r.Destination.Card.Number = "4242x24242424242" }, "destination.card.number", "not_digits"},
		{"sbp with card object", func(r *Request) { r.Destination.Type = DestinationSBP }, "destination.card", "unexpected"},
		{"name", func(r *Request) { r.Recipient.FullName = "" }, "recipient.full_name", "required"},
		{"long name", func(r *Request) { r.Recipient.FullName = strings.Repeat("я", 256) }, "recipient.full_name", "too_long"},
		{"description", func(r *Request) { r.Description = strings.Repeat("d", 256) }, "description", "too_long"},
		{"pan in description", func(r *Request) { r.Description = "to 4242-4242-4242-4242" }, "description", "card_number_not_allowed"},
		{"pan in metadata", func(r *Request) { r.Metadata["x"] = "4242424242424242" }, "metadata.x", "card_number_not_allowed"},
		{"empty metadata key", func(r *Request) { r.Metadata[""] = "v" }, "metadata", "invalid_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			tt.change(&r)
			requireFieldError(t, r.Validate(anyProvider{}), tt.field, tt.code)
		})
	}
}

func sbpRequest() Request {
	return Request{
		Provider:    "testbank",
		Amount:      Amount{Value: 1000, Currency: "RUB"},
		Destination: Destination{Type: DestinationSBP, SBP: &SBP{Phone: "+79001234567", BankID: "100000000111"}},
		Recipient:   Recipient{FullName: "Иванов Петр Сергеевич"},
	}
}

func TestValidate_SBPAndPaymentPage(t *testing.T) {
	valid := []struct {
		name   string
		change func(*Request)
	}{
		{"sbp with the name", func(*Request) {}},
		{"sbp without the name", func(r *Request) { r.Destination.SBP.WithoutName = true; r.Recipient.FullName = "Петр" }},
		{"sbp with a bic", func(r *Request) { r.Destination.SBP.BankBIC = "044525225" }},
		{"payment page", func(r *Request) { r.Destination = Destination{Type: DestinationPaymentPage} }},
		{"card token", func(r *Request) { r.Destination = Destination{Type: DestinationCard, Card: &Card{Token: "tok_1"}} }},
		{"card number", func(r *Request) {
			r.Destination = Destination{Type: DestinationCard, Card: &Card{Number: "4242424242424242"}}
		}},
		{"the recipient's phone and email (seed 004's customerInfo)", func(r *Request) {
			r.Destination = Destination{Type: DestinationCard, Card: &Card{Number: "4012888888881881"}}
			r.Recipient.Phone, r.Recipient.Email = "+79001234567", "user@example.com"
		}},
	}
	for _, tt := range valid {
		t.Run("valid/"+tt.name, func(t *testing.T) {
			r := sbpRequest()
			tt.change(&r)
			require.NoError(t, r.Validate(anyProvider{}))
		})
	}
	invalid := []struct {
		name   string
		change func(*Request)
		field  string
		code   string
	}{
		{"no phone", func(r *Request) { r.Destination.SBP.Phone = "" }, "destination.sbp.phone", "required"},
		{"phone without +7", func(r *Request) { r.Destination.SBP.Phone = "89001234567" }, "destination.sbp.phone", "invalid_phone"},
		{"short phone", func(r *Request) { r.Destination.SBP.Phone = "+7900123456" }, "destination.sbp.phone", "invalid_phone"},
		{"phone with spaces", func(r *Request) { r.Destination.SBP.Phone = "+7 900 123 45 67" }, "destination.sbp.phone", "invalid_phone"},
		{"no bank id", func(r *Request) { r.Destination.SBP.BankID = "" }, "destination.sbp.bank_id", "required"},
		{"bank id not digits", func(r *Request) { r.Destination.SBP.BankID = "sber" }, "destination.sbp.bank_id", "invalid_bank_id"},
		{"bad bic", func(r *Request) { r.Destination.SBP.BankBIC = "0445" }, "destination.sbp.bank_bic", "invalid_bank_bic"},
		{"no sbp object", func(r *Request) { r.Destination.SBP = nil }, "destination.sbp", "required"},
		{"recipient phone without +", func(r *Request) { r.Recipient.Phone = "79001234567" }, "recipient.phone", "invalid_phone"},
		{"recipient phone with spaces", func(r *Request) { r.Recipient.Phone = "+7 900 123 45 67" }, "recipient.phone", "invalid_phone"},
		{"recipient email", func(r *Request) { r.Recipient.Email = "user@" }, "recipient.email", "invalid_email"},
		{"payment page with a card", func(r *Request) {
			r.Destination = Destination{Type: DestinationPaymentPage, Card: &Card{Token: "t"}}
		}, "destination", "unexpected"},
	}
	for _, tt := range invalid {
		t.Run("invalid/"+tt.name, func(t *testing.T) {
			r := sbpRequest()
			tt.change(&r)
			requireFieldError(t, r.Validate(anyProvider{}), tt.field, tt.code)
		})
	}
}

func TestValidate_RecipientPhoneIsE164(t *testing.T) {
	for phone, ok := range map[string]bool{
		"+79001234567":      true,
		"+375291234567":     true, // another country: bank131 and bepaid are not held to +7
		"+12025550123":      true,
		"79001234567":       false,
		"+0123456789":       false,
		"+7900":             false,
		"+7900123456789012": false,
		"+7 900 123 45 67":  false,
		"+7(900)1234567":    false,
		"+7900123456７":      false,
		"4242424242424242":  false,
	} {
		t.Run(phone, func(t *testing.T) {
			r := validRequest()
			r.Recipient.Phone = phone
			requireValidity(t, r, ok, "recipient.phone", "invalid_phone")
		})
	}
}

func TestValidate_TransferPromoProjectID(t *testing.T) {
	for id, ok := range map[string]bool{
		"":                      true,
		"promo_tjs":             true,
		"your_project_name":     true,
		"promo-2024.q1":         true,
		" promo":                false,
		"promo tjs":             false,
		"promo\n":               false,
		strings.Repeat("p", 65): false,
		"промо":                 false,
	} {
		t.Run(id, func(t *testing.T) {
			r := transferRequest()
			r.Transfer.PromoProjectID = id
			requireValidity(t, r, ok, "transfer.promo_project_id", "invalid_promo_project_id")
		})
	}
	r := transferRequest()
	r.Transfer.PromoProjectID = "4242424242424242"
	requireFieldError(t, r.Validate(anyProvider{}), "transfer.promo_project_id", "card_number_not_allowed")
}

// requireValidity asserts that r is valid when ok, and otherwise refused naming field with code.
func requireValidity(t *testing.T, r Request, ok bool, field, code string) {
	t.Helper()
	if ok {
		require.NoError(t, r.Validate(anyProvider{}))
		return
	}
	requireFieldError(t, r.Validate(anyProvider{}), field, code)
}

// anyProvider takes every method and asks nothing more: the provider of the common rules' tests (each provider's
// own rules are tested with its package, and through the registry).
type anyProvider struct{}

func (anyProvider) Methods() []string {
	return []string{MethodCardNumber, MethodCardToken, MethodSBP, MethodPaymentPage, MethodTransfer}
}

func (anyProvider) Check(Request) error { return nil }

func TestValidate_AsksTheProviderAfterTheCommonChecks(t *testing.T) {
	requireFieldError(t, validRequest().Validate(nil), "provider", "unknown_provider")
	refuse := checkFunc(func(Request) error { return NewFieldError("description", "too_short", "the provider wants more") })
	requireFieldError(t, validRequest().Validate(refuse), "description", "too_short")
	r := validRequest()
	r.Amount.Value = 0
	requireFieldError(t, r.Validate(refuse), "amount.value", "must_be_positive")
	r = validRequest()
	r.Destination = Destination{Type: DestinationPaymentPage}
	requireFieldError(t, r.Validate(cardsOnly{}), "destination.type", "method_not_supported")
}

type checkFunc func(Request) error

func (checkFunc) Methods() []string       { return anyProvider{}.Methods() }
func (f checkFunc) Check(r Request) error { return f(r) }

type cardsOnly struct{ anyProvider }

func (cardsOnly) Methods() []string { return []string{MethodCardNumber, MethodCardToken} }

func requireFieldError(t *testing.T, err error, field, code string) {
	t.Helper()
	var fe *FieldError
	require.True(t, errors.As(err, &fe), "got %v", err)
	require.Equal(t, field, fe.Field)
	require.Equal(t, code, fe.Code)
	require.NotEmpty(t, fe.Message)
	require.NotContains(t, fe.Error(), "4242424242424242", "errors never hold the card number")
}

func TestLuhn(t *testing.T) {
	for pan, ok := range map[string]bool{
		"4242424242424242": true, "4000000000000002": true, "2200000000000004": true, "79927398713": true,
		"4242424242424241": false, "": false, "12a4": false,
	} {
		require.Equal(t, ok, Luhn(pan), pan)
	}
}

func TestLooksLikeCardNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"4242424242424242": true, "card 4242 4242 4242 4242 ok": true, "order 123": false,
		"+79001234567": false, "invoice 1234567890123": false, "": false,
	} {
		require.Equal(t, want, LooksLikeCardNumber(s), s)
	}
}

func TestCardBrand(t *testing.T) {
	for pan, brand := range map[string]string{
		"4242424242424242": "visa", "5555555555554444": "mastercard", "2221000000000009": "mastercard",
		"2200000000000004": "mir", "378282246310005": "amex", "6200000000000005": "unionpay", "123": "unknown",
	} {
		require.Equal(t, brand, CardBrand(pan), pan)
	}
}

func TestMasked_ShowsBrandAndLast4Only(t *testing.T) {
	m := validRequest().Destination.Masked()
	require.Equal(t, &MaskedCard{Brand: "visa", Last4: "4242"}, m.Card)
	require.Equal(t, "Visa •4242", m.Card.String())
	tok := Destination{Type: DestinationCard, Card: &Card{Token: "abc"}}.Masked()
	require.Equal(t, "tokenized card", tok.Card.String())
}

func TestID_IsStableAndRevealsNothingOfTheKey(t *testing.T) {
	id := ID("order-123-4242424242424242")
	require.Equal(t, id, ID("order-123-4242424242424242"))
	require.NotEqual(t, id, ID("order-124"))
	require.Regexp(t, `^po_[0-9a-f]{32}$`, id)
	require.NotContains(t, id, "4242")
}

func TestFingerprint_ChangesWithTheBodyAndTheKey(t *testing.T) {
	a, b := validRequest(), validRequest()
	require.Equal(t, a.Fingerprint([]byte("k")), b.Fingerprint([]byte("k")))
	b.Amount.Value++
	require.NotEqual(t, a.Fingerprint([]byte("k")), b.Fingerprint([]byte("k")))
	require.NotEqual(t, a.Fingerprint([]byte("k")), a.Fingerprint([]byte("other")))
}

func TestSummary_ReadsAsPlainWords(t *testing.T) {
	s := NewState("po_1", validRequest(), time.Unix(0, 0))
	require.Equal(t, "100.00 RUB to Visa •4242 via testbank", s.Summary(), "a provider without a title goes by its name")
	SetProviderTitle("testbank", "Test Bank")
	require.Equal(t, "100.00 RUB to Visa •4242 via Test Bank", s.Summary())
	require.Equal(t, "0.05 USD", Amount{Value: 5, Currency: "USD"}.String())
}

func BenchmarkValidate(b *testing.B) {
	r := validRequest()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Validate(anyProvider{}); err != nil {
			b.Fatal(err)
		}
	}
}

func bePaidRequest() Request {
	r := validRequest()
	r.Amount.Currency = "BYN"
	r.Destination.Card = &Card{Number: "4200000000000000", Holder: "IVAN IVANOV", ExpMonth: "12", ExpYear: "2030"}
	r.Recipient = Recipient{FullName: "Ivan Ivanov", Email: "ivan@example.com", IP: "127.0.0.1", BirthDate: "1990-10-20",
		Address: &Address{FirstName: "Ivan", LastName: "Ivanov", Country: "BY", City: "Minsk"}}
	r.Sender = &Sender{Document: &Document{Type: "PASSPORT", Number: "MP1234567", IssuedAt: "2010-03-12"}}
	return r
}

func TestValidate_PartiesAndCardDetails(t *testing.T) {
	require.NoError(t, bePaidRequest().Validate(anyProvider{}))
	token := bePaidRequest()
	token.Destination.Card = &Card{Token: "b4469f38-cec7-4f55-a86d-2ab2dc300e0b"}
	require.NoError(t, token.Validate(anyProvider{}), "a token needs no holder")

	tests := []struct {
		name   string
		change func(*Request)
		field  string
		code   string
	}{
		{"bad currency", func(r *Request) { r.Amount.Currency = "BYR" }, "amount.currency", "unknown_currency"},
		{"description over 255", func(r *Request) { r.Description = strings.Repeat("d", 256) }, "description", "too_long"},
		{"bad email", func(r *Request) { r.Recipient.Email = "not-an-email" }, "recipient.email", "invalid_email"},
		{"bad ip", func(r *Request) { r.Recipient.IP = "300.1.1.1" }, "recipient.ip", "invalid_ip"},
		{"bad birth date", func(r *Request) { r.Recipient.BirthDate = "20-10-1990" }, "recipient.birth_date", "invalid_date"},
		{"bad country", func(r *Request) { r.Recipient.Address.Country = "Belarus" }, "recipient.billing_address.country", "invalid_country"},
		{"bad document type", func(r *Request) { r.Sender.Document.Type = "VISA" }, "sender.document.type", "invalid_document_type"},
		{"document without number", func(r *Request) { r.Sender.Document.Number = "" }, "sender.document.number", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bePaidRequest()
			tt.change(&r)
			var fe *FieldError
			require.ErrorAs(t, r.Validate(anyProvider{}), &fe)
			require.Equal(t, tt.field, fe.Field)
			require.Equal(t, tt.code, fe.Code)
		})
	}
}

func TestMaskCardNumbers(t *testing.T) {
	for in, want := range map[string]string{
		`{"number":"4242424242424242"}`:          `{"number":"424242******4242"}`,
		`{"number":"2200000000000004","x":1}`:    `{"number":"220000******0004","x":1}`,
		`{"amount":10000,"phone":"79001234567"}`: `{"amount":10000,"phone":"79001234567"}`,
		`not luhn 4242424242424241`:              `not luhn 4242424242424241`,
	} {
		require.Equal(t, want, string(MaskCardNumbers([]byte(in))))
	}
}

func transferRequest() Request {
	return Request{
		Provider:    "testbank",
		Amount:      Amount{Value: 10843, Currency: "TJS"},
		Destination: Destination{Type: DestinationCard, Card: &Card{Number: "5058270610441098"}},
		Recipient:   Recipient{FullName: "Pahmutov Maksim"},
		Transfer: &Transfer{Source: Amount{Value: 100000, Currency: "RUB"}, Rate: "9.2222", ProviderRate: "8.2200",
			ProviderTxID: "tx1",
			Sender: TransferSender{FirstName: "Olga", LastName: "Pahmutova", CitizenshipCountry: "RUS", Country: "RUS",
				City: "Moscow", Street: "Tverskaya", BirthDate: "1998-03-15", Document: &TransferDocument{Type: "passport", Number: "8008 579120"}},
			Recipient:  TransferRecipient{FirstName: "Maksim", LastName: "Pahmutov"},
			SenderCard: &SenderCard{Number: "4242424242424242", ExpMonth: "01", ExpYear: "2029", CVV: "123"}},
	}
}

func TestValidate_TransferTextIsBoundedAndHoldsNoCardNumber(t *testing.T) {
	valid := transferRequest
	require.NoError(t, valid().Validate(anyProvider{}))
	tests := []struct {
		name   string
		change func(*Request)
		field  string
		code   string
	}{
		{"long street", func(r *Request) { r.Transfer.Sender.Street = strings.Repeat("у", 256) }, "transfer.sender.street", "too_long"},
		{"card in the name", func(r *Request) { r.Transfer.Recipient.FirstName = "4242424242424242" }, "transfer.recipient.first_name", "card_number_not_allowed"},
		{"card in the document", func(r *Request) { r.Transfer.Sender.Document.IssuedBy = "4242 4242 4242 4242" }, "transfer.sender.document.issued_by", "card_number_not_allowed"},
		{"zero rate", func(r *Request) { r.Transfer.Rate = "0.0000" }, "transfer.rate", "invalid_rate_precision"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid()
			tt.change(&r)
			requireFieldError(t, r.Validate(anyProvider{}), tt.field, tt.code)
		})
	}
	require.Equal(t, "card •4242", SenderCard{Number: "4242424242424242", CVV: "123"}.String())
}

func TestValidate_RefusesNamesWithInvisibleCharactersOrMixedScripts(t *testing.T) {
	tests := []struct {
		name   string
		req    func() Request
		change func(*Request)
		field  string
		code   string
	}{
		{"zero-width space", validRequest, func(r *Request) { r.Recipient.FullName = "Iva\u200bnov Ivan" },
			"recipient.full_name", "invisible_characters_not_allowed"},
		{"zero-width joiner", validRequest, func(r *Request) { r.Recipient.FullName = "Ivanov\u200d Ivan" },
			"recipient.full_name", "invisible_characters_not_allowed"},
		{"word joiner", validRequest, func(r *Request) { r.Recipient.FullName = "Ivanov \u2060Ivan" },
			"recipient.full_name", "invisible_characters_not_allowed"},
		{"byte order mark", validRequest, func(r *Request) { r.Recipient.FullName = "\ufeffIvanov Ivan" },
			"recipient.full_name", "invisible_characters_not_allowed"},
		{"soft hyphen", validRequest, func(r *Request) { r.Recipient.FullName = "Iva\u00adnov Ivan" },
			"recipient.full_name", "invisible_characters_not_allowed"},
		{"a Cyrillic о in a Latin word", validRequest, func(r *Request) { r.Recipient.FullName = "Ivan\u043ev Ivan" },
			"recipient.full_name", "mixed_scripts_not_allowed"},
		{"a Latin o in a Cyrillic word", sbpRequest, func(r *Request) { r.Recipient.FullName = "Ивaнов Петр Сергеевич" },
			"recipient.full_name", "mixed_scripts_not_allowed"},
		{"a Greek ο in a Latin word", validRequest, func(r *Request) { r.Recipient.FullName = "Ivan\u03bfv Ivan" },
			"recipient.full_name", "mixed_scripts_not_allowed"},
		{"the card holder", bePaidRequest, func(r *Request) { r.Destination.Card.Holder = "IV\u0410N IVANOV" },
			"destination.card.holder", "mixed_scripts_not_allowed"},
		{"the transfer's recipient", transferRequest, func(r *Request) { r.Transfer.Recipient.FirstName = "Mak\u200bsim" },
			"transfer.recipient.first_name", "invisible_characters_not_allowed"},
		{"the transfer's sender", transferRequest, func(r *Request) { r.Transfer.Sender.LastName = "Pahmutov\u0430" },
			"transfer.sender.last_name", "mixed_scripts_not_allowed"},
		{"the transfer's sender's middle name", transferRequest, func(r *Request) { r.Transfer.Sender.MiddleName = "\u00adPetrovna" },
			"transfer.sender.middle_name", "invisible_characters_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req()
			tt.change(&r)
			requireFieldError(t, r.Validate(anyProvider{}), tt.field, tt.code)
		})
	}
}

func TestValidate_AcceptsNamesInOneScriptPerWord(t *testing.T) {
	for _, name := range []string{
		"Салтыков-Щедрин Михаил Евграфович",
		"Алиев Рашид Гасан оглы",
		"Иванов Пётр",
		"O'Brien Seán",
		"Müller-Lüdenscheidt Hans",
		"Ivanov Иван", // one script in each word
	} {
		t.Run(name, func(t *testing.T) {
			r := validRequest()
			r.Recipient.FullName = name
			require.NoError(t, r.Validate(anyProvider{}))
		})
	}
}

func TestNormalizeName_HidesNoDifferenceThatDoesNotShow(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"case, spaces and punctuation", "  Bad   ACTOR. ", "bad actor"},
		{"zero-width space, joiners, word joiner", "B\u200bad\u200c Ac\u200dt\u2060or", "bad actor"},
		{"byte order mark and soft hyphen", "\ufeffBad Ac\u00adtor", "bad actor"},
		{"fullwidth letters", "Ｂａｄ Ａｃｔｏｒ", "bad actor"},
		{"accents", "Bád Àctör", "bad actor"},
		{"ё is е", "Пётр Актёр", "петр актер"},
		{"Cyrillic look-alikes in a Latin name", "B\u0430d A\u0441t\u043er", "bad actor"},
		{"Latin look-alikes in a Cyrillic name", "Плoxой Aкtep", "плохои актер"}, // й is и without its breve
		{"a word of look-alikes takes the script of the name", "Bepa Иванова", "вера иванова"},
		{"a name of look-alikes is written in Latin", "Вера Орехова", "bepa opexoba"},
		{"the same name in Latin look-alikes", "Bepa Opexoba", "bepa opexoba"},
		{"each word keeps its own script", "Иван Johnson", "иван johnson"},
		{"hyphens separate words", "Салтыков-Щедрин", "салтыков щедрин"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, NormalizeName(tt.in))
		})
	}
}

func TestValidate_RecipientEmailIsABareAddress(t *testing.T) {
	// recipient.email goes as it is into Mandarin's customerInfo.email (seed 004: "user@example.com") and bePaid's
	// recipient.email. net/mail.ParseAddress also takes an address with a display name or a comment, which is not
	// an email address a provider reads: such an email must be refused, not sent.
	for _, email := range []string{
		"Ivan <ivan@example.com>",
		"ivan@example.com (Ivan)",
		"<ivan@example.com>",
		"=?utf-8?q?Ivan?= <ivan@example.com>",
	} {
		t.Run(email, func(t *testing.T) {
			r := validRequest()
			r.Recipient.Email = email
			requireFieldError(t, r.Validate(anyProvider{}), "recipient.email", "invalid_email")
		})
	}
}
