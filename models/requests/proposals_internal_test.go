package requests

import (
	"strings"
	"testing"
	"unicode/utf8"

	store "github.com/sendara/console/models/store"
)

// FuzzIdentifiersInText: whatever a message says, each identifier found
// is a normalized one (normalizing it again changes nothing), found once,
// and nothing panics.
func FuzzIdentifiersInText(f *testing.F) {
	for _, s := range []string{
		"Call me at (415) 555-0123 or mail Jane@Example.com.",
		"--\nJane\nMobile: +44 20 7946 0958\n> +1 415 555 0199\nOn Mon, a@b.example wrote:",
		"PR-2026-000042 2026-03-02 12:30 $1,234.56",
		"a@b@c..d +++1 ((((415))))",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		seen := map[string]bool{}
		for _, id := range identifiersInText(text, "US") {
			again, err := store.NormalizeIdentifier("", id.Value, "US")
			if err != nil || again != id {
				t.Fatalf("%q found in %q does not normalize to itself: %v %v", id.Value, text, again, err)
			}
			if seen[id.Value] || !utf8.ValidString(id.Value) || strings.ContainsAny(id.Value, " \r\n") {
				t.Fatalf("%q found twice or malformed in %q", id.Value, text)
			}
			seen[id.Value] = true
		}
	})
}
