package mandarin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// hashLen is the length of a SHA-256 hex digest.
const hashLen = 64

// XAuth is the X-Auth header of a request: merchantId-sha256hex(merchantId-requestId-secret)-requestId.
func XAuth(merchantID, requestID, secret string) string {
	sum := sha256.Sum256([]byte(merchantID + "-" + requestID + "-" + secret))
	return merchantID + "-" + hex.EncodeToString(sum[:]) + "-" + requestID
}

// NewRequestID returns a fresh request id: 32 random hex digits.
func NewRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// CheckXAuth reports whether header is a valid X-Auth of merchantID with secret, and returns its request id. The
// merchant id is the text up to the first "-", then come 64 hex digits, "-" and the request id (which may hold
// "-", "_" or "."). The hash is compared in constant time.
func CheckXAuth(header, merchantID, secret string) (string, bool) {
	if merchantID == "" || secret == "" {
		return "", false
	}
	mid, rest, ok := strings.Cut(header, "-")
	if !ok || mid != merchantID || len(rest) < hashLen+2 || rest[hashLen] != '-' {
		return "", false
	}
	hash, requestID := rest[:hashLen], rest[hashLen+1:]
	want := XAuth(merchantID, requestID, secret)
	got := mid + "-" + strings.ToLower(hash) + "-" + requestID
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return "", false
	}
	return requestID, true
}

// Sign is the sign of a callback (or of any form Mandarin signs): the values of all fields but "sign", sorted by
// key in byte order, joined with "-", then "-" and the secret; SHA-256, lower-case hex. A field given more than once
// counts with its first value.
func Sign(fields url.Values, secret string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != signField {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(fields.Get(k))
		b.WriteString("-")
	}
	b.WriteString(secret)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// VerifySign reports, in constant time, whether fields carry the right sign for secret.
func VerifySign(fields url.Values, secret string) bool {
	got := fields.Get(signField)
	if got == "" || secret == "" || len(fields[signField]) != 1 {
		return false
	}
	want := Sign(fields, secret)
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(got))) == 1
}

// FormatPrice writes an amount in minor units (kopecks) as Mandarin's price: a decimal string in major units with
// two decimals, by integer arithmetic only: 10000 is "100.00", 5 is "0.05".
func FormatPrice(minor int64) string {
	sign := ""
	u := uint64(minor)
	if minor < 0 {
		sign, u = "-", uint64(-(minor+1))+1 // no overflow at math.MinInt64
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// ParsePrice reads a decimal price in major units ("12.34", "12.3", "12", "-1.50") into minor units, exactly: more
// than two decimals, or anything that is not a decimal number, is an error.
func ParsePrice(s string) (int64, error) {
	bad := fmt.Errorf("price %q is not a decimal amount with at most two decimals", s)
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	whole, frac, hasDot := strings.Cut(body, ".")
	if whole == "" || (hasDot && (frac == "" || len(frac) > 2)) || !digits(whole) || !digits(frac) {
		return 0, bad
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<63-1-99)/100 {
		return 0, bad
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	v := w*100 + f
	if neg {
		v = -v
	}
	return v, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
