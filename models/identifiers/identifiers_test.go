package identifiers_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sendara/console/models/identifiers"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw, region string
		kind, want  string
	}{
		{"+1 (415) 555-0123", "US", identifiers.KindPhone, "+14155550123"},
		{"415.555.0123", "US", identifiers.KindPhone, "+14155550123"},
		{"(415) 555-0123", "US", identifiers.KindPhone, "+14155550123"},
		{"tel:+14155550123", "US", identifiers.KindPhone, "+14155550123"},
		{"TEL:+1-415-555-0123", "US", identifiers.KindPhone, "+14155550123"},
		{"+44 20 7946 0958", "US", identifiers.KindPhone, "+442079460958"},
		{"020 7946 0958", "GB", identifiers.KindPhone, "+442079460958"},
		{"  +1 202 555 0100 ", "US", identifiers.KindPhone, "+12025550100"},
		{"＋１ ４１５ ５５５ ０１２３", "US", identifiers.KindPhone, "+14155550123"},
		{"Jane.Doe@Example.COM", "US", identifiers.KindEmail, "jane.doe@example.com"},
		{"Smoke.Person@Example.com", "US", identifiers.KindEmail, "smoke.person@example.com"},
		{"mailto:Jane.Doe@Example.COM", "US", identifiers.KindEmail, "jane.doe@example.com"},
		{"MAILTO:jane@example.org", "US", identifiers.KindEmail, "jane@example.org"},
		// One person, every spelling: composed, decomposed, IDNA ASCII,
		// capitals, full-width letters.
		{"jörg@bücher.example", "US", identifiers.KindEmail, "jörg@xn--bcher-kva.example"},
		{"jörg@xn--bcher-kva.example", "US", identifiers.KindEmail, "jörg@xn--bcher-kva.example"},
		{"jo\u0308rg@bu\u0308cher.example", "US", identifiers.KindEmail, "jörg@xn--bcher-kva.example"},
		{"JÖRG@BÜCHER.EXAMPLE", "US", identifiers.KindEmail, "jörg@xn--bcher-kva.example"},
		{"JÖRG@XN--BCHER-KVA.EXAMPLE", "US", identifiers.KindEmail, "jörg@xn--bcher-kva.example"},
		{"ｊöｒｇ＠ｂüｃｈｅｒ．ｅｘａｍｐｌｅ", "US", identifiers.KindEmail, "jörg@xn--bcher-kva.example"},
		{"ｍａｉｌｔｏ:Jane@Example.com", "US", identifiers.KindEmail, "jane@example.com"},
		// Full case folding in the local part; the domain keeps IDNA2008's
		// own "ß" (non-transitional), a different domain from "ss".
		{"Straße@example.com", "US", identifiers.KindEmail, "strasse@example.com"},
		{"a@faß.example", "US", identifiers.KindEmail, "a@xn--fa-hia.example"},
		{"ΣΊΣΥΦΟΣ@example.gr", "US", identifiers.KindEmail, "σίσυφοσ@example.gr"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := identifiers.Normalize(tt.raw, tt.region)
			if err != nil {
				t.Fatalf("Normalize(%q): %v", tt.raw, err)
			}
			if got.Kind != tt.kind || got.Value != tt.want {
				t.Errorf("Normalize(%q) = %+v, want %s %s", tt.raw, got, tt.kind, tt.want)
			}
		})
	}
}

func TestNormalizeRefusesWhatIsNeither(t *testing.T) {
	for _, raw := range []string{"", "not-a-phone", "12345", "555-0100", "jane@", "@example.com", "jane doe@example.com",
		"+1 415 555 0123 ext 5", "javascript:alert(1)", "tel:", "mailto:", strings.Repeat("9", 400),
		"jane@localhost", "jane@exa_mple.com", "jane@-example.com", "Jane <jane@example.com>", `"jane doe"@example.com`,
		"jane@" + strings.Repeat("a", 64) + ".com", "jane@xn--zz.example", "\xff@example.com"} {
		t.Run(raw, func(t *testing.T) {
			_, err := identifiers.Normalize(raw, "US")
			var e *identifiers.Error
			if !errors.As(err, &e) {
				t.Errorf("Normalize(%q) = %v, want an *identifiers.Error", raw, err)
			}
		})
	}
}

func TestNormalizeRefusesInvisibleAndControlCharacters(t *testing.T) {
	for _, c := range []struct{ name, raw string }{
		{"zero-width space", "ja\u200bne@example.com"},
		{"zero-width joiner", "jane\u200d@example.com"},
		{"zero-width non-joiner in the domain", "jane@exa\u200cmple.com"},
		{"byte-order mark", "\ufeffjane@example.com"},
		{"word joiner", "jane@example\u2060.com"},
		{"right-to-left override", "jane\u202e@example.com"},
		{"left-to-right isolate", "\u2066jane@example.com"},
		{"soft hyphen", "ja\u00adne@example.com"},
		{"C0 control", "ja\x01ne@example.com"},
		{"escape", "jane@exam\x1bple.com"},
		{"C1 control", "ja\u0085ne@example.com"},
		{"delete", "jane\x7f@example.com"},
		{"variation selector", "jane\ufe0f@example.com"},
		{"Hangul filler", "ja\u3164ne@example.com"},
		{"combining grapheme joiner", "ja\u034fne@example.com"},
		{"zero-width space in a phone number", "+1 415\u200b555 0123"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, err := identifiers.Normalize(c.raw, "US")
			var e *identifiers.Error
			if !errors.As(err, &e) || !strings.Contains(e.Reason, "invisible or control character") {
				t.Errorf("Normalize(%q) = %+v, %v; want it refused for an invisible or control character", c.raw, id, err)
			}
		})
	}
}

func TestLegacySpellingsCoverWhatOlderConsolesStored(t *testing.T) {
	got := identifiers.LegacySpellings("jörg@xn--bcher-kva.example")
	for _, want := range []string{"jörg@bücher.example", "jo\u0308rg@bu\u0308cher.example", "jo\u0308rg@xn--bcher-kva.example", "jörg@bu\u0308cher.example"} {
		if !slices.Contains(got, want) {
			t.Errorf("LegacySpellings misses %q (%+q): got %+q", want, want, got)
		}
	}
	if slices.Contains(got, "jörg@xn--bcher-kva.example") {
		t.Errorf("LegacySpellings lists the canonical form itself: %+q", got)
	}
	for _, plain := range []string{"jane@example.com", "+14155550123"} {
		if got := identifiers.LegacySpellings(plain); got != nil {
			t.Errorf("LegacySpellings(%q) = %q, want nil: older consoles stored it as now", plain, got)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+1 (415) 555-0123", "415.555.0123", "tel:+14155550123", "Jane.Doe@Example.COM", "mailto:a@b.co", "x", "",
		"jörg@bücher.example", "jo\u0308rg@bu\u0308cher.example", "jörg@xn--bcher-kva.example", "ｊöｒｇ＠ｂüｃｈｅｒ．ｅｘａｍｐｌｅ",
		"Straße@faß.example", "ja\u200bne@example.com", "ΣΊΣΥΦΟΣ@example.gr", "ﬁ@ﬀ.example", "ǅ@x.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		id, err := identifiers.Normalize(raw, "US")
		if err != nil {
			var e *identifiers.Error
			if !errors.As(err, &e) {
				t.Fatalf("Normalize(%q) failed without an *identifiers.Error: %v", raw, err)
			}
			return
		}
		// A normalized identifier is a fixed point.
		again, err := identifiers.Normalize(id.Value, "US")
		if err != nil || again != id {
			t.Fatalf("Normalize(%q) = %+v, but normalizing that gives %+v, %v", raw, id, again, err)
		}
		for _, r := range id.Value {
			if identifiers.Invisible(r) {
				t.Fatalf("Normalize(%q) = %+q holds an invisible or control character U+%04X", raw, id.Value, r)
			}
		}
		// Surrounding white space (a CSV cell's newline) is trimmed; any
		// other invisible character is refused.
		for _, r := range strings.TrimSpace(raw) {
			if identifiers.Invisible(r) {
				t.Fatalf("Normalize(%q) accepted an invisible or control character U+%04X", raw, r)
			}
		}
		switch id.Kind {
		case identifiers.KindPhone:
			if !strings.HasPrefix(id.Value, "+") {
				t.Fatalf("phone %q is not E.164", id.Value)
			}
		case identifiers.KindEmail:
			if strings.ToLower(id.Value) != id.Value {
				t.Fatalf("email %q is not lower-case", id.Value)
			}
			domain := id.Value[strings.LastIndexByte(id.Value, '@')+1:]
			for i := 0; i < len(domain); i++ {
				if domain[i] >= 0x80 {
					t.Fatalf("email %q has a domain outside its IDNA ASCII form", id.Value)
				}
			}
			// Every legacy spelling of an address normalizes back to it.
			for _, old := range identifiers.LegacySpellings(id.Value) {
				if got, err := identifiers.Normalize(old, "US"); err != nil || got != id {
					t.Fatalf("legacy spelling %+q of %+q normalizes to %+v, %v", old, id.Value, got, err)
				}
			}
		}
	})
}
