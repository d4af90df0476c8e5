package models_test

import (
	"strings"
	"testing"

	"github.com/sendara/console/models"
)

func TestNormalizeIdentifier(t *testing.T) {
	tests := []struct {
		raw, region string
		kind, want  string
	}{
		{"+1 (415) 555-0123", "US", models.KindPhone, "+14155550123"},
		{"415.555.0123", "US", models.KindPhone, "+14155550123"},
		{"(415) 555-0123", "US", models.KindPhone, "+14155550123"},
		{"tel:+14155550123", "US", models.KindPhone, "+14155550123"},
		{"TEL:+1-415-555-0123", "US", models.KindPhone, "+14155550123"},
		{"+44 20 7946 0958", "US", models.KindPhone, "+442079460958"},
		{"020 7946 0958", "GB", models.KindPhone, "+442079460958"},
		{"  +1 202 555 0100 ", "US", models.KindPhone, "+12025550100"},
		{"Jane.Doe@Example.COM", "US", models.KindEmail, "jane.doe@example.com"},
		{"mailto:Jane.Doe@Example.COM", "US", models.KindEmail, "jane.doe@example.com"},
		{"MAILTO:jane@example.org", "US", models.KindEmail, "jane@example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := models.NormalizeIdentifier("to", tt.raw, tt.region)
			if err != nil {
				t.Fatalf("NormalizeIdentifier(%q): %v", tt.raw, err)
			}
			if got.Kind != tt.kind || got.Value != tt.want {
				t.Errorf("NormalizeIdentifier(%q) = %+v, want %s %s", tt.raw, got, tt.kind, tt.want)
			}
		})
	}
}

func TestNormalizeIdentifierRefusesWhatIsNeither(t *testing.T) {
	for _, raw := range []string{"", "not-a-phone", "12345", "555-0100", "jane@", "@example.com", "jane doe@example.com",
		"+1 415 555 0123 ext 5", "javascript:alert(1)", "tel:", "mailto:", strings.Repeat("9", 400)} {
		t.Run(raw, func(t *testing.T) {
			_, err := models.NormalizeIdentifier("to", raw, "US")
			v, ok := models.AsValidation(err)
			if !ok || v.Field != "to" {
				t.Errorf("NormalizeIdentifier(%q) = %v, want a validation error on field to", raw, err)
			}
		})
	}
}

func FuzzNormalizeIdentifier(f *testing.F) {
	for _, s := range []string{"+1 (415) 555-0123", "415.555.0123", "tel:+14155550123", "Jane.Doe@Example.COM", "mailto:a@b.co", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		id, err := models.NormalizeIdentifier("to", raw, "US")
		if err != nil {
			if _, ok := models.AsValidation(err); !ok {
				t.Fatalf("NormalizeIdentifier(%q) failed without a validation error: %v", raw, err)
			}
			return
		}
		// A normalized identifier is a fixed point.
		again, err := models.NormalizeIdentifier("to", id.Value, "US")
		if err != nil || again != id {
			t.Fatalf("NormalizeIdentifier(%q) = %+v, but normalizing that gives %+v, %v", raw, id, again, err)
		}
		if id.Kind == models.KindPhone && !strings.HasPrefix(id.Value, "+") {
			t.Fatalf("phone %q is not E.164", id.Value)
		}
		if id.Kind == models.KindEmail && strings.ToLower(id.Value) != id.Value {
			t.Fatalf("email %q is not lower-case", id.Value)
		}
	})
}
