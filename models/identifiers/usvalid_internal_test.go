package identifiers

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// usValidMatchesLibrary fails t when usValid and the library disagree on
// the ten digits n.
func usValidMatchesLibrary(t *testing.T, n uint64) {
	t.Helper()
	cc := int32(1)
	want := phonenumbers.IsValidNumberForRegion(&phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &n}, "US")
	national := fmt.Sprintf("%010d", n)
	if got := usValid(national, n); got != want {
		t.Fatalf("usValid(%010d) = %v, phonenumbers.IsValidNumberForRegion says %v", n, got, want)
	}
	if got := loadUSValidator().validByPatterns(national); got != want {
		t.Fatalf("the expressions say %010d is valid: %v, phonenumbers.IsValidNumberForRegion says %v", n, got, want)
	}
}

// The automaton is built from the metadata (usValid would otherwise run
// the expressions, as correct and several times slower), and it answers
// no for what is not ten digits.
func TestUSDigitsBuilt(t *testing.T) {
	v := loadUSValidator()
	if v == nil {
		t.Fatal("the US metadata could not be read")
	}
	if v.digits == nil {
		_, err := buildUSDigits(v)
		t.Fatalf("no automaton for the US metadata: %v", err)
	}
	t.Logf("%d states", len(v.digits.next))
	for _, s := range []string{"415555012a", "415555012/", "41555501:3"} {
		if v.digits.valid(s) {
			t.Errorf("digits.valid(%q) = true", s)
		}
	}
	if !v.digits.valid("4155550123") {
		t.Error("digits.valid(4155550123) = false")
	}
}

// The precompiled US metadata answers as the library does: every area code
// with every first digit of the exchange and a few endings, then random
// numbers (both answers occur in each part).
func TestUSValidMatchesLibrary(t *testing.T) {
	if loadUSValidator() == nil {
		t.Fatal("the US metadata could not be read: the fast path would always ask the library")
	}
	valid := 0
	for npa := uint64(200); npa <= 999; npa++ {
		for x := uint64(0); x <= 9; x++ {
			for _, rest := range []uint64{0, 5_0123, 99_9999, 55_0100} {
				n := npa*10_000_000 + x*1_000_000 + rest
				usValidMatchesLibrary(t, n)
				if usValid(fmt.Sprintf("%010d", n), n) {
					valid++
				}
			}
		}
	}
	if valid == 0 || valid == 800*10*4 {
		t.Fatalf("%d valid of %d: the walk should see both answers", valid, 800*10*4)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		usValidMatchesLibrary(t, 2_000_000_000+r.Uint64N(8_000_000_000))
	}
}

// FuzzUSValid compares usValid with the library on any ten digits whose
// first is 2-9 (what usE164 hands it).
func FuzzUSValid(f *testing.F) {
	for _, n := range []uint64{4155550123, 6135550123, 8005550100, 9005550100, 5005550100, 2005550100, 9999999999} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n uint64) {
		usValidMatchesLibrary(t, 2_000_000_000+n%8_000_000_000)
	})
}
