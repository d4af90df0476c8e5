package models

import (
	"errors"
	"net/mail"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// Identifier kinds.
const (
	KindPhone = "phone"
	KindEmail = "email"
)

// Identifier is a normalized way to reach a person: a phone number in
// E.164 or a lower-cased email address.
type Identifier struct {
	Kind  string
	Value string
}

// NormalizeIdentifier accepts a phone number in any common writing
// ("+1 (415) 555-0123", "415.555.0123" in the default region,
// "tel:+14155550123") or an email ("Jane.Doe@Example.COM", "mailto:…") and
// returns it normalized. Anything else is a ValidationError on field.
func NormalizeIdentifier(field, raw, defaultRegion string) (Identifier, error) {
	s := strings.TrimSpace(raw)
	lower := strings.ToLower(s)
	switch {
	case s == "":
		return Identifier{}, Invalid(field, "is empty: give a phone number or an email address")
	case len(s) > 320:
		return Identifier{}, Invalid(field, "is too long to be a phone number or an email address")
	case strings.HasPrefix(lower, "mailto:") || strings.Contains(s, "@"):
		email, err := normalizeEmailIdentifier(strings.TrimPrefix(lower, "mailto:"))
		if err != nil {
			return Identifier{}, Invalid(field, "%q is not a valid email address", raw)
		}
		return Identifier{Kind: KindEmail, Value: email}, nil
	}
	phone := strings.TrimSpace(strings.TrimPrefix(lower, "tel:"))
	for _, r := range phone {
		if !unicode.IsDigit(r) && !strings.ContainsRune("+-(). /", r) {
			return Identifier{}, Invalid(field, "%q is neither a phone number nor an email address", raw)
		}
	}
	if defaultRegion == "" {
		defaultRegion = "US"
	}
	n, err := phonenumbers.Parse(phone, strings.ToUpper(defaultRegion))
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return Identifier{}, Invalid(field, "%q is not a valid phone number (without a country code it is read as %s)", raw, strings.ToUpper(defaultRegion))
	}
	return Identifier{Kind: KindPhone, Value: phonenumbers.Format(n, phonenumbers.E164)}, nil
}

var errNotEmail = errors.New("not an email address")

// normalizeEmailIdentifier accepts a bare address only: no display name,
// no comments, a dotted domain.
func normalizeEmailIdentifier(s string) (string, error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return "", errNotEmail
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.ContainsAny(s, " \t\r\n") {
		return "", errNotEmail
	}
	return s, nil
}
