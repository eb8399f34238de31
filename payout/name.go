package payout

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// NormalizeName is a name as names are compared for screening: words in one script, without case, accents or
// invisible characters.
//
// Invisible characters (format characters such as zero-width spaces and joiners, the soft hyphen and the byte order
// mark, variation selectors, other default-ignorable code points and controls) are dropped; the rest is put in NFKC
// (fullwidth "Ａ" is "a"), case-folded and stripped of combining marks ("ё" is "е", "й" is "и", "á" is "a").
// Letters that look alike in Latin and Cyrillic ("o" and "о", "a" and "а", and likewise e, p, c, x, y, k, m, t, h,
// b, i, j, s) are written in the script of their word, told by its other letters, or else by the rest of the name,
// or else in Latin. Anything but letters and digits separates words, which are joined by single spaces.
func NormalizeName(name string) string {
	name = strings.Map(func(r rune) rune {
		if invisible(r) {
			return -1
		}
		return r
	}, name)
	name = norm.NFD.String(cases.Fold().String(norm.NFKC.String(name)))
	name = norm.NFC.String(strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, name))
	words := strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
	total := 0
	for _, w := range words {
		total += scriptLean(w)
	}
	for i, w := range words {
		lean := scriptLean(w)
		if lean == 0 {
			lean = total
		}
		twins := cyrillicTwins
		if lean >= 0 {
			twins = latinTwins
		}
		words[i] = strings.Map(func(r rune) rune {
			if t, ok := twins[r]; ok {
				return t
			}
			return r
		}, w)
	}
	return strings.Join(words, " ")
}

// latinTwins maps lower-case Cyrillic letters to the Latin ones they look like; cyrillicTwins is the reverse.
var latinTwins = map[rune]rune{
	'а': 'a', 'в': 'b', 'с': 'c', 'е': 'e', 'н': 'h', 'і': 'i', 'ј': 'j', 'к': 'k', 'м': 'm', 'о': 'o', 'р': 'p',
	'ѕ': 's', 'т': 't', 'х': 'x', 'у': 'y',
}

var cyrillicTwins = func() map[rune]rune {
	m := make(map[rune]rune, len(latinTwins))
	for c, l := range latinTwins {
		m[l] = c
	}
	return m
}()

// scriptLean counts the Latin letters of a lower-case word that look like no Cyrillic letter, less the Cyrillic
// letters that look like no Latin one: above 0 the word is Latin, below 0 Cyrillic, at 0 it cannot tell.
func scriptLean(word string) int {
	n := 0
	for _, r := range word {
		switch {
		case unicode.Is(unicode.Latin, r) && cyrillicTwins[r] == 0:
			n++
		case unicode.Is(unicode.Cyrillic, r) && latinTwins[r] == 0:
			n--
		}
	}
	return n
}

// invisible reports whether r shows nothing: a format character (zero-width space, joiners, soft hyphen, byte
// order mark), a variation selector, another default-ignorable code point, or a control other than white space.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point) ||
		unicode.IsControl(r) && !unicode.IsSpace(r)
}

// mixedScripts reports whether a word of name has letters of two scripts, such as a Latin "o" among Cyrillic
// letters. Han, Hiragana, Katakana, Bopomofo and Hangul count as one script, as they are written together.
func mixedScripts(name string) bool {
	words := strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsMark(r) })
	for _, w := range words {
		first := ""
		for _, r := range w {
			s := script(r)
			switch {
			case s == "":
			case first == "":
				first = s
			case s != first:
				return true
			}
		}
	}
	return false
}

// script names the script of a letter, "" for letters of several (Common, Inherited).
func script(r rune) string {
	for name, table := range unicode.Scripts {
		if name == "Common" || name == "Inherited" || !unicode.Is(table, r) {
			continue
		}
		switch name {
		case "Han", "Hiragana", "Katakana", "Bopomofo", "Hangul":
			return "Han"
		}
		return name
	}
	return ""
}

// checkName refuses a name that could pass for another: with invisible characters, or with a word in two scripts.
func checkName(field, label, name string) error {
	switch {
	case strings.ContainsFunc(name, invisible):
		return fieldErr(field, "invisible_characters_not_allowed",
			"%s must not hold invisible characters (zero-width spaces or joiners, soft hyphens, byte order marks)", label)
	case mixedScripts(name):
		return fieldErr(field, "mixed_scripts_not_allowed",
			"%s must not mix scripts within a word, such as a Latin \"o\" among Cyrillic letters", label)
	}
	return nil
}
