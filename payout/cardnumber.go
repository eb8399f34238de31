package payout

import "iter"

// cardNumbers yields where each card number in s starts and ends, left to right: 13 to 19 digits with a card
// scheme's prefix that pass the Luhn check, written whole or in groups joined by spaces, dashes, dots or no-break
// spaces. A card number never starts or ends inside a run of digits, so a longer number, such as a 20-digit account
// number, holds none; nor does a payout ID, a hash whose hex digits may run like one. LooksLikeCardNumber and
// MaskCardNumbers both read s through it, so that what one refuses the other masks.
func cardNumbers[T string | []byte](s T) iter.Seq2[int, int] {
	return func(yield func(start, end int) bool) {
		var buf [16]digitGroup
		for i := 0; i < len(s); {
			if n := payoutIDLen(s, i); n > 0 {
				i += n
				continue
			}
			if !isDigit(s[i]) {
				i++
				continue
			}
			groups := buf[:0]
			for {
				j := i
				for j < len(s) && isDigit(s[j]) {
					j++
				}
				groups = append(groups, digitGroup{i, j})
				k := j
				for n := separatorLen(s, k); n > 0; n = separatorLen(s, k) {
					k += n
				}
				i = j
				if k == j || k == len(s) || !isDigit(s[k]) {
					break
				}
				i = k
			}
			if !yieldCardNumbers(s, groups, yield) {
				return
			}
		}
	}
}

// payoutIDLen returns the length of the payout ID at s[i] (po_ and 32 lower-case hex digits, standing alone: no
// letter or digit just before or after it); 0 if there is none.
func payoutIDLen[T string | []byte](s T, i int) int {
	const n = len("po_") + 32
	if i+n > len(s) || s[i] != 'p' || s[i+1] != 'o' || s[i+2] != '_' || (i > 0 && isAlnum(s[i-1])) ||
		(i+n < len(s) && isAlnum(s[i+n])) {
		return 0
	}
	for j := i + 3; j < i+n; j++ {
		if !isDigit(s[j]) && (s[j] < 'a' || s[j] > 'f') {
			return 0
		}
	}
	return n
}

func isAlnum(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') }

// digitGroup is a run of digits, s[start:end].
type digitGroup struct{ start, end int }

// yieldCardNumbers yields the card numbers among consecutive groups of digits, taking the longest one that starts
// at a group before looking at the next group; it reports whether yield asked for more.
func yieldCardNumbers[T string | []byte](s T, groups []digitGroup, yield func(start, end int) bool) bool {
	for a := 0; a < len(groups); {
		end, digits := 0, 0
		for b := a; b < len(groups); b++ {
			if digits += groups[b].end - groups[b].start; digits > 19 {
				break
			}
			if digits >= 13 && plausibleCardNumber(s[groups[a].start:groups[b].end]) {
				end = b + 1
			}
		}
		if end == 0 {
			a++
			continue
		}
		if !yield(groups[a].start, groups[end-1].end) {
			return false
		}
		a = end
	}
	return true
}

// plausibleCardNumber reports whether the digits of s, up to 19 of them, have a card scheme's prefix and pass the
// Luhn check; what is not a digit in s is skipped.
func plausibleCardNumber[T string | []byte](s T) bool {
	var d [19]byte
	n := 0
	for i := 0; i < len(s) && n < len(d); i++ {
		if isDigit(s[i]) {
			d[n] = s[i]
			n++
		}
	}
	return n >= 4 && knownCardPrefix(atoi(string(d[:4]))) && Luhn(string(d[:n]))
}

// knownCardPrefix reports whether a card number's first four digits belong to a card scheme.
func knownCardPrefix(p4 int) bool {
	p1, p2, p3 := p4/1000, p4/100, p4/10
	switch {
	case p1 == 4: // Visa
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
	case p4 >= 2200 && p4 <= 2204: // Mir
	case p2 == 50, p2 >= 56 && p2 <= 69: // Maestro
	case p2 == 62: // UnionPay
	case p4 >= 3528 && p4 <= 3589: // JCB
	case p2 == 34, p2 == 37: // American Express
	case p3 >= 300 && p3 <= 305, p2 == 36, p2 == 38, p2 == 39: // Diners Club
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65: // Discover
	// National schemes where the engine pays: Belkart, UzCard, Humo, Korti Milli, Elcart, ArCa and Troy.
	case p4 == 9112, p4 == 8600, p4 == 9860, p4 == 9762, p4 == 9417, p4 == 9051, p4 == 9792:
	default:
		return false
	}
	return true
}

// separatorLen returns the length of the separator of digit groups at s[i]: a space, dash, dot or no-break space;
// 0 if there is none.
func separatorLen[T string | []byte](s T, i int) int {
	switch {
	case i >= len(s):
		return 0
	case s[i] == ' ' || s[i] == '-' || s[i] == '.':
		return 1
	case s[i] == 0xc2 && i+1 < len(s) && s[i+1] == 0xa0: // U+00A0 in UTF-8
		return 2
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
