package identifiers

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
)

// fastMatchesFull fails t when Normalize (with the E.164 fast path) and
// normalizeFull (the reference, libphonenumber's full parse) disagree on
// raw in region: value, kind, and error text alike.
func fastMatchesFull(t *testing.T, raw, region string) {
	t.Helper()
	got, gotErr := Normalize(raw, region)
	want, wantErr := normalizeFull(raw, region)
	if got != want || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("Normalize(%q, %q) = %+v, %v; the full path says %+v, %v", raw, region, got, gotErr, want, wantErr)
	}
}

func TestUSE164FastPath(t *testing.T) {
	tests := []struct {
		raw  string
		fast bool // the fast path answers (else it defers to the full path)
	}{
		{"+14155550123", true},
		{"  +14155550123\n", true}, // a CSV cell's white space, trimmed as the full path trims it
		{"+12125550100", true},
		{"+16135550123", false}, // Ottawa: valid, but Canadian: the full path answers
		{"+18765550123", false}, // Jamaica
		{"+11155550123", false}, // area code starting with 1
		{"+10155550123", false}, // area code starting with 0
		{"+14151550123", false}, // exchange starting with 1: invalid, the full path refuses it
		{"+1415555012", false},  // nine digits
		{"+141555501234", false},
		{"+1415555012a", false},
		{"+1 4155550123", false},
		{"14155550123", false},
		{"+24155550123", false},
		{"+１4155550123", false}, // a full-width digit: NFKC's business, the full path's
		{"+1415555\u200b0123", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			for _, region := range []string{"US", "CA", "GB", "", "ZZ"} {
				fastMatchesFull(t, tt.raw, region)
			}
			id, ok := usE164(strings.TrimSpace(tt.raw))
			if ok != tt.fast {
				t.Errorf("fast path answers %v (%+v), want %v", ok, id, tt.fast)
			}
		})
	}
}

// Every area code, and exchanges across the range, both ways.
func TestUSE164FastPathEveryAreaCode(t *testing.T) {
	for npa := 200; npa <= 999; npa++ {
		for _, nxx := range []int{100, 211, 555, 958, 200, 999} {
			fastMatchesFull(t, fmt.Sprintf("+1%03d%03d%04d", npa, nxx, (npa*7+nxx)%10000), "US")
		}
	}
}

// FuzzUSE164FastPath compares the fast path with the full one on any
// input and region.
func FuzzUSE164FastPath(f *testing.F) {
	for _, s := range []string{"+14155550123", "+16135550123", "+18765550123", "+12015550123", "+19995550123", "+14151550123",
		"+1415555012", "+1 415 555 0123", "tel:+14155550123", "4155550123", "+442071838750", "+1\u00a04155550123", "a@b.co"} {
		f.Add(s, "US")
		f.Add(s, "CA")
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		fastMatchesFull(t, raw, region)
	})
}

// FuzzUSE164FastPathDigits walks the shape the fast path takes: "+1" and
// any ten digits.
func FuzzUSE164FastPathDigits(f *testing.F) {
	for _, n := range []uint64{4155550123, 6135550123, 8765550123, 2005550100, 9999999999, 1234567890, 5551234567} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n uint64) {
		fastMatchesFull(t, fmt.Sprintf("+1%010d", n%10_000_000_000), "US")
	})
}

// BenchmarkNormalizeE164 is the figure in docs/PERFORMANCE.md: the same
// E.164 input through the full path and through Normalize.
func BenchmarkNormalizeE164(b *testing.B) {
	for _, c := range []struct {
		name string
		fn   func(string, string) (Identifier, error)
	}{{"full", normalizeFull}, {"fast", Normalize}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.fn("+14155550123", "US"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNormalizeEmail is an ASCII address as the seed (and most
// sending pipelines) write it, through Normalize.
func BenchmarkNormalizeEmail(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Normalize("jane.doe.12345@example.com", "US"); err != nil {
			b.Fatal(err)
		}
	}
}

// Invisible's ASCII shortcut answers as the Unicode tables do, and the
// tables still decide everything else: every code point, both ways.
func TestInvisibleASCIIFastPath(t *testing.T) {
	for r := rune(-1); r <= unicode.MaxRune+1; r++ {
		if got, want := Invisible(r), invisibleTables(r); got != want {
			t.Fatalf("Invisible(%U) = %v, the Unicode tables say %v", r, got, want)
		}
	}
}
