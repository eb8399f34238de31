package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// NameMatches reports whether the name a recipient's bank gives (SBP answers such as "Петр Иванович С.", first
// name, patronymic and the initial of the last name) fits the recipient the backend expects ("Иванов Петр
// Сергеевич", in any order). Banks shorten and reorder names, so the match is loose but never thin: the bank must
// give at least two words, its first must equal one of the expected words in full, and each of its other words must
// equal, or begin with the initial of, a different expected word. Case, "ё" and punctuation do not count.
func NameMatches(bankName, expected string) bool {
	got, want := nameWords(bankName), nameWords(expected)
	if len(got) < 2 || len(got) > len(want) {
		return false // one word says too little; more words than expected say someone else
	}
	used := make([]bool, len(want))
	take := func(match func(string) bool) bool {
		for i, w := range want {
			if !used[i] && match(w) {
				used[i] = true
				return true
			}
		}
		return false
	}
	if !take(func(w string) bool { return w == got[0] }) {
		return false
	}
	for _, g := range got[1:] {
		if take(func(w string) bool { return w == g }) {
			continue
		}
		initial, _ := utf8.DecodeRuneInString(g)
		if !take(func(w string) bool { r, _ := utf8.DecodeRuneInString(w); return r == initial }) {
			return false
		}
	}
	return true
}

// nameWords splits a name into lower-case words without punctuation, with "ё" read as "е".
func nameWords(name string) []string {
	name = strings.NewReplacer("ё", "е", "Ё", "е").Replace(strings.ToLower(name))
	return strings.FieldsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
}
