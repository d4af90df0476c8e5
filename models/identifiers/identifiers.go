// Package identifiers normalizes the ways to reach a person — phone numbers
// and email addresses — into one canonical spelling each. It is pure: no
// database, no configuration beyond the default phone region, so every path
// that takes an identifier (API, CSV import, pages, inbound replies,
// request intake, erasure's keyed hashes, the suppression index) agrees on
// what "the same person" means by calling the same function.
package identifiers

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/net/idna"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Identifier kinds.
const (
	KindPhone = "phone"
	KindEmail = "email"
)

// Identifier is a normalized way to reach a person: a phone number in
// E.164 or an email address in its canonical form (see NormalizeEmail).
type Identifier struct {
	Kind  string
	Value string
}

// Error is why a value is not an identifier, phrased to follow the name of
// the field that held it ("to", "row 3's Email").
type Error struct{ Reason string }

func (e *Error) Error() string { return e.Reason }

func fail(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// maxLen bounds the input and the result: no email address is longer than
// 320 bytes (64 + 1 + 255), and no phone number comes near it.
const maxLen = 320

// Normalize accepts a phone number in any common writing
// ("+1 (415) 555-0123", "415.555.0123" in defaultRegion, "tel:+14155550123")
// or an email ("Jane.Doe@Example.COM", "mailto:…") and returns it
// normalized. Anything else is an *Error.
func Normalize(raw, defaultRegion string) (Identifier, error) {
	trimmed := strings.TrimSpace(raw)
	if id, ok := usE164(trimmed); ok {
		return id, nil
	}
	if id, ok := asciiEmail(trimmed); ok {
		return id, nil
	}
	return normalizeFull(raw, defaultRegion)
}

// usE164 is Normalize's fast path for what a sending pipeline mostly
// asks: a US number already in E.164, "+1" and ten digits, the area code's
// first digit 2-9. Such a string has nothing to trim, fold or strip, its
// country code makes the default region irrelevant, and a number libphonenumber
// finds valid for the US is valid and formats back to the same string, so
// the answer is normalizeFull's at about half the CPU (parsing is what
// costs). Anything else — Canada and the other NANP regions, invalid area
// codes or exchanges — reports false and takes the full path. Held to it by
// FuzzUSE164FastPath and TestUSE164FastPathEveryAreaCode.
func usE164(s string) (Identifier, bool) {
	if len(s) != 12 || s[0] != '+' || s[1] != '1' || s[2] < '2' || s[2] > '9' {
		return Identifier{}, false
	}
	var national uint64
	for i := 2; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return Identifier{}, false
		}
		national = national*10 + uint64(c-'0')
	}
	if !usValid(s[2:], national) {
		return Identifier{}, false
	}
	return Identifier{Kind: KindPhone, Value: strings.Clone(s)}, true // s may hold a large buffer
}

// normalizeFull is Normalize without the fast path: the reference the fast
// path is tested against.
func normalizeFull(raw, defaultRegion string) (Identifier, error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return Identifier{}, fail("is empty: give a phone number or an email address")
	case len(s) > maxLen:
		return Identifier{}, fail("is too long to be a phone number or an email address")
	}
	if err := refuseInvisible(raw, s); err != nil {
		return Identifier{}, err
	}
	// NFKC first, so that full-width digits, "＠" and "ｍａｉｌｔｏ:" are
	// recognised for what they are.
	s = norm.NFKC.String(s)
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, "mailto:") || strings.Contains(s, "@") {
		email, err := NormalizeEmail(s)
		if err != nil {
			return Identifier{}, fail("%q is not a valid email address", raw)
		}
		return Identifier{Kind: KindEmail, Value: email}, nil
	}
	phone := strings.TrimSpace(strings.TrimPrefix(lower, "tel:"))
	for _, r := range phone {
		if !unicode.IsDigit(r) && !strings.ContainsRune("+-(). /", r) {
			return Identifier{}, fail("%q is neither a phone number nor an email address", raw)
		}
	}
	region := strings.ToUpper(defaultRegion)
	if region == "" {
		region = "US"
	}
	n, err := phonenumbers.Parse(phone, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return Identifier{}, fail("%q is not a valid phone number (without a country code it is read as %s)", raw, region)
	}
	return Identifier{Kind: KindPhone, Value: phonenumbers.Format(n, phonenumbers.E164)}, nil
}

// refuseInvisible refuses what a person reading the address cannot see:
// C0 and C1 controls, format characters (zero-width space and joiners,
// bidi overrides and isolates, the byte-order mark, soft hyphens),
// variation selectors and the other default-ignorable code points (Hangul
// fillers, the combining grapheme joiner). Two addresses that look the same
// on a page must not be two people, one of them never suppressed; and NFKC
// keeps most of these, so they would survive normalization.
func refuseInvisible(raw, s string) error {
	if !utf8.ValidString(s) {
		return fail("%q is not valid UTF-8 text", raw)
	}
	for _, r := range s {
		if Invisible(r) {
			return fail("%q contains an invisible or control character (U+%04X): type the address again", raw, r)
		}
	}
	return nil
}

// Invisible reports whether r is a control, format or other
// default-ignorable character, which no identifier may contain.
func Invisible(r rune) bool {
	if 0 <= r && r < utf8.RuneSelf {
		// ASCII: only the C0 controls and DEL; no ASCII character is a
		// format character, a variation selector or default-ignorable
		// (TestInvisibleASCIIFastPath walks every code point).
		return r < 0x20 || r == 0x7f
	}
	return invisibleTables(r)
}

// invisibleTables is Invisible from the Unicode tables alone.
func invisibleTables(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// domains is the IDNA profile email domains go through. The options are
// spelled out rather than taken from idna.Lookup, whose configuration "may
// change over time": a stored identifier must not change spelling with a
// library update. It is the lookup profile of RFC 5891 §5 (UTS #46 mapping,
// so "BÜCHER.example" and full-width letters are accepted and mapped, which
// the registration profile would refuse), non-transitional (IDNA2008: "ß"
// and "ς" stay themselves, as browsers and mail servers now resolve them,
// instead of becoming "ss" and "σ"), STD3 host-name rules (letters, digits
// and hyphens: what a mail domain may hold), label validation (hyphens,
// joiners, punycode that decodes to a valid label), the bidi rule, and DNS
// lengths (an address whose domain cannot exist is a typo).
var domains = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.BidiRule(), idna.VerifyDNSLength(true))

// fold is Unicode full case folding, for local parts: unlike ToLower it
// also makes "ß" and "ss", "ς" and "σ" one spelling.
var fold = cases.Fold()

// NormalizeEmail returns the canonical form of an email address, or an
// error for anything but a bare address (no display name, no comments, no
// quoted local part, a dotted domain). The canonical form is what is
// stored and answered:
//
//   - the local part in NFKC with Unicode case folding, so decomposed
//     accents, full-width letters and capitals are one spelling;
//   - the domain in its IDNA ASCII form, lower case ("bücher.example" and
//     "xn--bcher-kva.example" are one domain): the form DNS and every mail
//     server understand, and one byte string per domain, which the keyed
//     hashes of the erased list need.
//
// Local parts are case-sensitive in RFC 5321, but no provider treats them
// so and a person who writes "Jane@" and "jane@" is one person to suppress.
func NormalizeEmail(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if len(s) > maxLen {
		return "", fail("is too long to be an email address")
	}
	if err := refuseInvisible(raw, s); err != nil {
		return "", err
	}
	s = norm.NFKC.String(s)
	if len(s) >= len("mailto:") && strings.EqualFold(s[:len("mailto:")], "mailto:") {
		s = strings.TrimSpace(s[len("mailto:"):])
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 {
		return "", fail("is not a valid email address")
	}
	// Folding can undo NFKC (and NFKC can leave text to fold), so the
	// local part is normalized, folded and normalized again: the same
	// closure Unicode's NFKC_Casefold computes, minus the ignorables,
	// which are refused instead of dropped.
	local := norm.NFKC.String(fold.String(norm.NFKC.String(s[:at])))
	domain, err := domains.ToASCII(s[at+1:])
	if err != nil || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", fail("is not a valid email address")
	}
	out := local + "@" + domain
	a, err := mail.ParseAddress(out)
	if err != nil || a.Address != out || len(out) > maxLen || strings.ContainsFunc(out, unicode.IsSpace) {
		return "", fail("is not a valid email address")
	}
	for _, r := range out {
		if Invisible(r) {
			return "", fail("is not a valid email address")
		}
	}
	return out, nil
}

// LegacySpellings lists the other spellings under which an older console,
// which only lower-cased addresses, may have stored the canonical email
// address canonical: its local part composed (NFC, as most keyboards type
// it) or decomposed (NFD), with the domain as typed in Unicode (composed or
// decomposed) or in its ASCII form. Keyed hashes made from those spellings
// cannot be recomputed (only the hash was kept), so the erased list is
// checked under each of them. Spellings that folding changed beyond
// recovery ("ß" stored before it became "ss", full-width letters) are not
// among them. Nil for a phone number or a plain ASCII address, which
// older consoles stored exactly as now.
func LegacySpellings(canonical string) []string {
	at := strings.LastIndexByte(canonical, '@')
	if at < 0 || (isASCII(canonical) && !strings.Contains(canonical, "xn--")) {
		return nil
	}
	local, ascii := canonical[:at], canonical[at+1:]
	domainsAsTyped := []string{ascii}
	if uni, err := domains.ToUnicode(ascii); err == nil {
		domainsAsTyped = append(domainsAsTyped, norm.NFC.String(uni), norm.NFD.String(uni))
	}
	seen := map[string]bool{canonical: true}
	var out []string
	for _, l := range []string{norm.NFC.String(local), norm.NFD.String(local)} {
		for _, d := range domainsAsTyped {
			if v := l + "@" + d; !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
