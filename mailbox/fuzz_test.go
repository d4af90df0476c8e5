package mailbox_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sendara/console/mailbox"
)

var suggestTypes = []string{"", "access", "portability", "rectification", "erasure", "restriction", "objection",
	"opt_out_sale", "know", "delete", "correct", "child_data", "other"}

// FuzzParse checks that no input makes Parse panic, and that a message it
// accepts keeps the exact bytes and a lower-case sender address.
func FuzzParse(f *testing.F) {
	samples, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, p := range samples {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("From: A <A@B.C>\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/alternative; boundary=y\r\n\r\n--y\r\n\r\nhi\r\n--y--\r\n--x--\r\n"))
	f.Add([]byte("From: =?utf-8?b?w6k=?= <X@Y>\r\nSubject: =?iso-8859-1?q?caf=E9?=\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=\r\n=4\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := mailbox.Parse(raw)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Raw, raw) {
			t.Fatal("Raw differs from the input")
		}
		if m.From.Address == "" || m.From.Address != strings.ToLower(m.From.Address) {
			t.Fatalf("From address %q is empty or not lower-case", m.From.Address)
		}
		if !utf8.ValidString(m.Subject) || !utf8.ValidString(m.TextBody) || strings.ContainsAny(m.Subject, "\r\n") {
			t.Fatalf("Subject %q or body is not one line of valid UTF-8", m.Subject)
		}
		if !slices.Contains(suggestTypes, m.SuggestedType) {
			t.Fatalf("SuggestedType %q is not a request type", m.SuggestedType)
		}
	})
}

// FuzzSuggestType checks that any text yields one of the request types or
// nothing, without panicking.
func FuzzSuggestType(f *testing.F) {
	f.Add("Delete my data", "please")
	f.Add("", "My daughter is 11 years old, delete her number")
	f.Add("CCPA", "Don\u2019t sell or share")
	f.Add("Re: x", "> quoted\nOn Mon wrote:\nstop texting me")
	f.Fuzz(func(t *testing.T, subject, body string) {
		if got := mailbox.SuggestType(subject, body); !slices.Contains(suggestTypes, got) {
			t.Fatalf("SuggestType = %q, not a request type", got)
		}
	})
}
