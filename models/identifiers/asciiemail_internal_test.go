package identifiers

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestASCIIEmailFastPath(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		raw  string
		fast bool
	}{
		{"jane.doe.12345@example.com", true},
		{" jane@example.com\t", true},
		{"a+tag_x-y@mail.example.co.uk", true},
		{"x@" + long63 + ".com", true},
		{"x@" + long63 + "a.com", false}, // a 64-byte label
		{"Jane@example.com", false},      // upper case: folded by the full path
		{"jane@Example.com", false},
		{"jane@example", false},
		{"jane@.example.com", false},
		{"jane@example.com.", false},
		{"jane@exa--mple.com", false},
		{"jane@xn--bcher-kva.example", false}, // punycode: the full path checks it
		{"jane@-example.com", false},
		{"jane@example-.com", false},
		{".jane@example.com", false},
		{"jane.@example.com", false},
		{"ja..ne@example.com", false},
		{"jane@@example.com", false},
		{"@example.com", false},
		{"jane@", false},
		{"j\"ane@example.com", false},
		{"jörg@example.com", false},
		{"jane@exa_mple.com", false},
		{"mailto:jane@example.com", false},
		{"jane@123.456", true},
		{"+14155550123", false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			for _, region := range []string{"US", "", "GB"} {
				fastMatchesFull(t, tt.raw, region)
			}
			if _, ok := asciiEmail(strings.TrimSpace(tt.raw)); ok != tt.fast {
				t.Errorf("fast path answers %v, want %v", ok, tt.fast)
			}
		})
	}
}

// FuzzASCIIEmailFastPath builds addresses from a small alphabet around the
// fast path's edges (so most inputs are near its shape) and compares
// Normalize with the full path on each.
func FuzzASCIIEmailFastPath(f *testing.F) {
	for _, s := range []string{"jane.doe@example.com", "a@b.co", "x+y@a-b.c-d.e", "A@b.c", "a@xn--b.c", "a..b@c.d", "a@b", "-@-.-"} {
		f.Add([]byte(s))
	}
	const alphabet = "abz09.-_+@A.\"x-n."
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 400 {
			return
		}
		var b strings.Builder
		for _, c := range in {
			if c >= 0x80 {
				b.WriteByte(alphabet[int(c)%len(alphabet)])
			} else {
				b.WriteByte(c) // ASCII as given: every other character too
			}
		}
		fastMatchesFull(t, b.String(), "US")
	})
}

// Random strings shaped like an address (a local part, "@", a domain, each
// from the characters the fast path's shape is made of and a few it
// refuses) and wholly random ones over the same characters: both paths
// agree on each, and the fast path answers a good share of them.
func TestASCIIEmailFastPathRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	word := func(alphabet string, max int) string {
		b := make([]byte, r.IntN(max+1))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	fast := 0
	for i := range 60_000 {
		var s string
		if i%2 == 0 {
			s = word("ab0._+-Ax", 8) + "@" + word("ab0.-", 10) + "." + word("abc-0", 4)
		} else {
			s = word("ab0.-_+@@.-Ax", 20)
		}
		fastMatchesFull(t, s, "US")
		if _, ok := asciiEmail(s); ok {
			fast++
		}
	}
	if fast < 1000 {
		t.Fatalf("the fast path answered only %d of 60,000: the walk misses its shape", fast)
	}
	t.Logf("the fast path answered %d of 60,000", fast)
}
