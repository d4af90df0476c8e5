package store

import (
	"errors"

	errs "github.com/sendara/console/models/errs"
	"github.com/sendara/console/models/identifiers"
)

// Identifier kinds (see package identifiers).
const (
	KindPhone = identifiers.KindPhone
	KindEmail = identifiers.KindEmail
)

// Identifier is a normalized way to reach a person; the rules live in the
// pure package identifiers, this alias keeps the data layer's signatures.
type Identifier = identifiers.Identifier

// NormalizeIdentifier is identifiers.Normalize with its refusal turned
// into a ValidationError on field, so every caller answers 400 with the
// field that held the value.
func NormalizeIdentifier(field, raw, defaultRegion string) (Identifier, error) {
	id, err := identifiers.Normalize(raw, defaultRegion)
	if err != nil {
		return Identifier{}, asInvalid(field, err)
	}
	return id, nil
}

// NormalizeEmail returns the canonical form of an email address (see
// identifiers.NormalizeEmail) or a ValidationError on field.
func NormalizeEmail(field, s string) (string, error) {
	email, err := identifiers.NormalizeEmail(s)
	if err != nil {
		return "", asInvalid(field, err)
	}
	return email, nil
}

func asInvalid(field string, err error) error {
	var e *identifiers.Error
	if errors.As(err, &e) {
		return errs.Invalid(field, "%s", e.Reason)
	}
	return err
}

// SpellingsOf is value and the spellings older consoles may have stored
// it under. The erased list and legal holds keep only keyed hashes, which
// cannot be recomputed from the canonical form, so they are looked up
// under every spelling; for a phone number or an ASCII address that is
// value alone.
func SpellingsOf(value string) []string {
	return append([]string{value}, identifiers.LegacySpellings(value)...)
}
