package payout

import (
	"net"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// ValidExpMonth reports whether month is a card's expiry month as two digits, 01 to 12.
func ValidExpMonth(month string) bool { return monthRE.MatchString(month) }

// ValidExpYear reports whether year is a card's expiry year as four digits, 20XX.
func ValidExpYear(year string) bool { return yearRE.MatchString(year) }

var (
	monthRE   = regexp.MustCompile(`^(0[1-9]|1[0-2])$`)
	yearRE    = regexp.MustCompile(`^20[0-9]{2}$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	e164RE    = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

func (r Recipient) validate() error {
	if r.Phone != "" && !ValidE164(r.Phone) {
		return fieldErr("recipient.phone", "invalid_phone", "phone must be in E.164 form: + and 7 to 15 digits, as +79001234567")
	}
	return validateContact("recipient", r.Email, r.IP, r.BirthDate, r.Address)
}

// ValidE164 reports whether phone is an international number in E.164 form: + and 7 to 15 digits, the first not 0.
func ValidE164(phone string) bool {
	return e164RE.MatchString(phone)
}

func (s Sender) validate() error {
	if err := validateContact("sender", s.Email, s.IP, s.BirthDate, s.Address); err != nil {
		return err
	}
	if d := s.Document; d != nil {
		switch {
		case d.Type != "PASSPORT" && d.Type != "ID":
			return fieldErr("sender.document.type", "invalid_document_type", "document type must be PASSPORT or ID")
		case strings.TrimSpace(d.Number) == "":
			return fieldErr("sender.document.number", "required", "document number is required")
		case !validDate(d.IssuedAt):
			return fieldErr("sender.document.issued_at", "invalid_date", "issued_at must be a date as YYYY-MM-DD")
		case !validDate(d.ValidUntil):
			return fieldErr("sender.document.valid_until", "invalid_date", "valid_until must be a date as YYYY-MM-DD")
		}
	}
	return nil
}

func validateContact(party, email, ip, birthDate string, a *Address) error {
	if email != "" && !validEmail(email) {
		return fieldErr(party+".email", "invalid_email", "email must be a bare address, as user@example.com: no name, comment or angle brackets")
	}
	if ip != "" && net.ParseIP(ip) == nil {
		return fieldErr(party+".ip", "invalid_ip", "ip is not an IPv4 or IPv6 address")
	}
	if !validDate(birthDate) {
		return fieldErr(party+".birth_date", "invalid_date", "birth_date must be a date as YYYY-MM-DD")
	}
	if a == nil {
		return nil
	}
	field := party + ".billing_address"
	switch {
	case a.Country != "" && !countryRE.MatchString(a.Country):
		return fieldErr(field+".country", "invalid_country", "country must be an ISO 3166-1 alpha-2 code, e.g. BY")
	case utf8.RuneCountInString(a.FirstName) > 30:
		return fieldErr(field+".first_name", "too_long", "first_name is longer than 30 characters")
	case utf8.RuneCountInString(a.LastName) > 30:
		return fieldErr(field+".last_name", "too_long", "last_name is longer than 30 characters")
	case utf8.RuneCountInString(a.City) > 60:
		return fieldErr(field+".city", "too_long", "city is longer than 60 characters")
	case utf8.RuneCountInString(a.Line) > 255:
		return fieldErr(field+".address", "too_long", "address is longer than 255 characters")
	case utf8.RuneCountInString(a.Phone) > 100:
		return fieldErr(field+".phone", "too_long", "phone is longer than 100 characters")
	}
	return nil
}

// validEmail reports whether email is a bare address of at most 255 bytes, as providers take it: net/mail also
// parses a display name, a comment, an encoded word or angle brackets, none of which is an address.
func validEmail(email string) bool {
	a, err := mail.ParseAddress(email)
	return err == nil && a.Name == "" && a.Address == email && len(email) <= 255
}

// validDate accepts "" or a calendar date as YYYY-MM-DD.
func validDate(s string) bool {
	if s == "" {
		return true
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}
