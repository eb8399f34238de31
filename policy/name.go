package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NameMatchesV1 is the release-1 rule, kept for payouts started before NameMatches took its place; do not change it.
//
// The workflow replays the name checks of those payouts with it, and a replay must decide as the release did. The
// rule: the bank must give at least two words, its first must equal one of the expected words in full, and each of
// its other words must equal, or begin with the initial of, a different expected word, in any order. Case, "ё" and
// punctuation do not count. It is too loose ("Петр Семенович И." matches "Иванов Петр Сергеевич").
func NameMatchesV1(bankName, expected string) bool {
	got, want := nameWordsV1(bankName), nameWordsV1(expected)
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

// nameWordsV1 splits a name into lower-case words without punctuation, with "ё" read as "е" (NameMatchesV1).
func nameWordsV1(name string) []string {
	name = strings.NewReplacer("ё", "е", "Ё", "е").Replace(strings.ToLower(name))
	return strings.FieldsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
}

// NameMatches reports whether the name a recipient's bank gives names the recipient: NameMatchOptions{}.Match.
//
// The workflow replays name checks with it: once released, its rule is changed only by a new function chosen by
// workflow version, as NameMatchesV1 was kept.
func NameMatches(bankName, expected string) bool { return NameMatchOptions{}.Match(bankName, expected) }

// NameMatchOptions adjusts the rule of NameMatches; its zero value is that rule.
type NameMatchOptions struct {
	// AllowTransliteration lets Latin letters match Cyrillic ones as a Russian passport transliterates them (ICAO
	// Doc 9303: "Петр Сергеевич И." is "Petr Sergeevich I.", "Юрий" is "Iurii"); other spellings ("Pyotr") do not.
	AllowTransliteration bool
}

// Match reports whether bankName names the person expected.
//
// The bank's name is read as SBP gives it: the given name, then the patronymic when there are three words or more,
// then the surname or its initial ("Петр Сергеевич И."). The expected name is read as the API takes it: the surname,
// the given name and the patronymic if any ("Иванов Петр Сергеевич"); a patronymic second ("Петр Сергеевич Иванов")
// puts the surname last. The given names must be equal, and the bank's in full; the patronymics must fit where both
// names have one; the surnames must fit. A word fits an equal word, and an initial (one letter, with or without a
// dot) fits a word in the same role that begins with it, nothing else. A surname may have several parts, joined by
// hyphens or spaces ("Салтыков-Щедрин", "Римский Корсаков"): parts fit one by one, or one initial stands for the
// whole. A Turkic patronymic is one word with its particle ("Гасан оглы"). Case, "ё" and punctuation do not count,
// nor do invisible characters; Cyrillic and Latin letters never fit each other unless AllowTransliteration is set.
// One word alone, on either side, never matches.
func (o NameMatchOptions) Match(bankName, expected string) bool {
	got, ok := bankOrder(o.words(bankName))
	if !ok {
		return false
	}
	want, ok := apiOrder(o.words(expected))
	if !ok {
		return false
	}
	switch {
	case got.given.initial():
		return false // an initial alone never stands for the given name
	case !got.given.fits(want.given):
		return false
	case got.patronymic != nil && want.patronymic != nil && !got.patronymic.fits(want.patronymic):
		return false
	}
	return got.surname.fits(want.surname)
}

// namePart is a part of a name in lower case, with "ё" read as "е", transliterated where asked.
type namePart struct {
	text    string
	initial bool // one letter, before transliteration
}

// nameWord is a word of a name in its hyphenated parts, or a surname in all its parts.
type nameWord []namePart

// personName is a name by roles.
type personName struct {
	given, patronymic nameWord // patronymic is nil when the name has none
	surname           nameWord
}

// bankOrder reads words as SBP gives them: given name, patronymic (from three words on), surname.
func bankOrder(w []nameWord) (personName, bool) {
	switch {
	case len(w) < 2:
		return personName{}, false
	case len(w) == 2:
		return personName{given: w[0], surname: w[1]}, true
	}
	return personName{given: w[0], patronymic: w[1], surname: joinWords(w[2:])}, true
}

// apiOrder reads words as the API takes them: surname, given name, patronymic; or given name, patronymic, surname
// when the patronymic is second and not last.
func apiOrder(w []nameWord) (personName, bool) {
	n := len(w)
	switch {
	case n < 2:
		return personName{}, false
	case n >= 3 && w[n-1].patronymic():
		return personName{given: w[n-2], patronymic: w[n-1], surname: joinWords(w[:n-2])}, true
	case n >= 3 && w[1].patronymic():
		return personName{given: w[0], patronymic: w[1], surname: joinWords(w[2:])}, true
	}
	return personName{given: w[n-1], surname: joinWords(w[:n-1])}, true
}

func joinWords(w []nameWord) nameWord {
	var all nameWord
	for _, p := range w {
		all = append(all, p...)
	}
	return all
}

// initial reports whether the word is one initial.
func (w nameWord) initial() bool { return len(w) == 1 && w[0].initial }

// fits reports whether two words name the same: part by part, or an initial for the first part.
func (w nameWord) fits(v nameWord) bool {
	if w.initial() || v.initial() {
		return w[0].fits(v[0])
	}
	if len(w) != len(v) {
		return false
	}
	for i := range w {
		if !w[i].fits(v[i]) {
			return false
		}
	}
	return true
}

// fits reports whether two parts are equal, or one is the other's initial.
func (p namePart) fits(q namePart) bool {
	return p.text == q.text ||
		p.initial && strings.HasPrefix(q.text, p.text) ||
		q.initial && strings.HasPrefix(p.text, q.text)
}

// patronymic reports whether the word reads as a patronymic: an initial, a Russian ending or a Turkic particle.
func (w nameWord) patronymic() bool {
	if w.initial() {
		return true
	}
	last := w[len(w)-1].text
	if len(w) > 1 && turkicParticles[last] {
		return true
	}
	for _, suffix := range []string{"ич", "ична", "вна", "ich", "ichna", "vna"} {
		if strings.HasSuffix(last, suffix) {
			return true
		}
	}
	return false
}

// turkicParticles end a Turkic patronymic ("Гасан оглы"), in Cyrillic and in Latin letters.
var turkicParticles = map[string]bool{
	"оглы": true, "оглу": true, "огли": true, "улы": true, "уулу": true, "кызы": true, "гызы": true, "кизи": true,
	"ogly": true, "oglu": true, "ogli": true, "uly": true, "uulu": true, "kyzy": true, "gyzy": true, "kizi": true,
	"qizi": true,
}

// words splits a name into words of parts: NFKC, lower case, "ё" as "е", invisible characters and apostrophes
// dropped, any dash a hyphen, a Turkic particle joined to the word before it.
func (o NameMatchOptions) words(name string) []nameWord {
	name = strings.Map(func(r rune) rune {
		switch {
		case r == 'ё':
			return 'е'
		case r == '\'' || r == '’' || r == 'ʼ' || unicode.Is(unicode.Cf, r):
			return -1
		case unicode.Is(unicode.Dash, r):
			return '-'
		}
		return r
	}, strings.ToLower(norm.NFKC.String(name)))
	fields := strings.FieldsFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) && r != '-'
	})
	var words []nameWord
	for _, f := range fields {
		var w nameWord
		for _, p := range strings.Split(f, "-") {
			part := namePart{text: p, initial: utf8.RuneCountInString(p) == 1}
			if o.AllowTransliteration {
				part.text = transliterate(part.text)
			}
			if part.text != "" { // "ь" alone transliterates to nothing
				w = append(w, part)
			}
		}
		switch {
		case len(w) == 0:
		case len(words) > 0 && len(w) == 1 && turkicParticles[w[0].text]:
			words[len(words)-1] = append(words[len(words)-1], w[0])
		default:
			words = append(words, w)
		}
	}
	return words
}

// icao is the Russian alphabet in Latin letters as ICAO Doc 9303 and Russian passports write it.
var icao = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh", 'з': "z", 'и': "i", 'й': "i",
	'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f",
	'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "ie", 'ы': "y", 'ь': "", 'э': "e", 'ю': "iu",
	'я': "ia",
}

// transliterate writes the Russian letters of a lower-case string in Latin ones (icao).
func transliterate(s string) string {
	var b strings.Builder
	for _, r := range s {
		if l, ok := icao[r]; ok {
			b.WriteString(l)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
