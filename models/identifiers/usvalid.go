package identifiers

import (
	"regexp"
	"slices"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// usNumberDesc is one of the US metadata's number descriptions, its
// pattern compiled once, anchored as libphonenumber anchors it.
type usNumberDesc struct {
	lengths []int32        // possible lengths; none: the general description's
	source  string         // the metadata's pattern, unanchored
	pattern *regexp.Regexp // nil: an empty pattern, which no ten digits match
}

// fitsTen reports whether the description can match a ten-digit number:
// its pattern is not empty and ten is a possible length.
func (d *usNumberDesc) fitsTen() bool {
	return d != nil && d.pattern != nil && (len(d.lengths) == 0 || slices.Contains(d.lengths, 10))
}

// matches is libphonenumber's isNumberMatchingDesc for one description:
// a possible length and the whole number matching the pattern.
func (d *usNumberDesc) matches(national string) bool {
	if d == nil || d.pattern == nil {
		return false
	}
	if len(d.lengths) > 0 && !slices.Contains(d.lengths, int32(len(national))) {
		return false
	}
	return d.pattern.MatchString(national)
}

// usValidator is phonenumbers.IsValidNumberForRegion(n, "US") for a +1
// number, from the same metadata, without what makes the library's call
// cost what it does on every check: two string concatenations and two
// lookups of a global, lock-guarded regexp cache per description, and each
// pattern matched twice (once as "possible", once as "matching").
type usValidator struct {
	general    *usNumberDesc
	types      []*usNumberDesc // premium rate … fixed line: any one makes the number valid
	mobile     *usNumberDesc   // asked only when the metadata says its pattern differs from fixed line's
	sameMobile bool
	digits     *usDigits // the same rule for ten digits, one table walk; nil: the expressions answer
}

var (
	usValidatorOnce sync.Once
	usValidatorVal  *usValidator // nil: the metadata could not be read; the caller asks the library
)

func loadUSValidator() *usValidator {
	usValidatorOnce.Do(func() {
		coll, err := phonenumbers.MetadataCollection()
		if err != nil {
			return
		}
		for _, m := range coll.GetMetadata() {
			if m.GetId() != "US" {
				continue
			}
			desc := func(d *phonenumbers.PhoneNumberDesc) *usNumberDesc {
				if d == nil {
					return nil
				}
				out := &usNumberDesc{lengths: d.PossibleLength, source: d.GetNationalNumberPattern()}
				if p := out.source; p != "" {
					out.pattern = regexp.MustCompile("^(?:" + p + ")$")
				}
				return out
			}
			usValidatorVal = &usValidator{
				general: desc(m.GetGeneralDesc()),
				types: []*usNumberDesc{desc(m.GetPremiumRate()), desc(m.GetTollFree()), desc(m.GetSharedCost()),
					desc(m.GetVoip()), desc(m.GetPersonalNumber()), desc(m.GetPager()), desc(m.GetUan()),
					desc(m.GetVoicemail()), desc(m.GetFixedLine())},
				mobile:     desc(m.GetMobile()),
				sameMobile: m.GetSameMobileAndFixedLinePattern(),
			}
			// Without the automaton the expressions give the same answers,
			// slower; TestUSDigitsBuilt fails the suite if it is missing.
			usValidatorVal.digits, _ = buildUSDigits(usValidatorVal)
			return
		}
	})
	return usValidatorVal
}

// valid is getNumberTypeHelper(national, US) != UNKNOWN: the general
// description matches, and one of the types does (mobile only when its
// pattern is not the fixed line's, as the library has it).
func (v *usValidator) valid(national string) bool {
	if v.digits != nil && len(national) == 10 {
		return v.digits.valid(national)
	}
	return v.validByPatterns(national)
}

// validByPatterns is valid by the compiled expressions, as the library
// decides: the reference the automaton is built from and tested against.
func (v *usValidator) validByPatterns(national string) bool {
	if !v.general.matches(national) {
		return false
	}
	for _, d := range v.types {
		if d.matches(national) {
			return true
		}
	}
	return !v.sameMobile && v.mobile.matches(national)
}

// usValid reports whether the ten digits (no leading zero) after +1 are a
// valid US number, exactly as phonenumbers.IsValidNumberForRegion says.
func usValid(national string, n uint64) bool {
	if v := loadUSValidator(); v != nil {
		return v.valid(national)
	}
	cc := int32(1)
	return phonenumbers.IsValidNumberForRegion(&phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &n}, "US")
}
