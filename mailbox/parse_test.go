package mailbox_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/mailbox"
)

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseReadsRealisticMessages(t *testing.T) {
	tests := []struct {
		file          string
		from          mailbox.Address
		subject       string
		date          time.Time
		messageID     string
		inReplyTo     string
		references    []string
		bodyHas       []string
		bodyHasNot    []string
		attachments   []mailbox.Attachment
		reference     string
		suggestedType string
	}{
		{
			file:      "plain_erasure.eml",
			from:      mailbox.Address{Name: "Jane Doe", Address: "jane.doe@example.com"},
			subject:   "Please delete my data",
			date:      time.Date(2026, 3, 3, 9, 13, 55, 0, time.UTC),
			messageID: "CAF7k2Q=x1@mail.example.com",
			// Quoted-printable: a soft line break joins "Smile Dental", and
			// =E2=80=99 is a typographic apostrophe.
			bodyHas:       []string{"(Bright Smile Dental)", "I don\u2019t know how", "Please delete all my personal data"},
			suggestedType: "erasure",
		},
		{
			file:          "alternative_latin1.eml",
			from:          mailbox.Address{Name: "José Müller", Address: "jose.muller@exemple.fr"},
			subject:       "Demande d'accès - what data do you have?",
			date:          time.Date(2026, 3, 4, 7, 2, 11, 0, time.UTC),
			messageID:     "20260304080211.4471@exemple.fr",
			bodyHas:       []string{"Could you please tell me what personal data you have about me?", "José Müller"},
			bodyHasNot:    []string{"<p>", "=E9"}, // the plain part, not the HTML one, decoded
			suggestedType: "access",
		},
		{
			file:          "html_only_base64.eml",
			from:          mailbox.Address{Name: "Lee, Sam", Address: "sam.lee@example.org"},
			subject:       "Do Not Sell or Share My Personal Information",
			date:          time.Date(2026, 3, 6, 1, 45, 0, 0, time.UTC),
			messageID:     "0100018e-9a1b-4c2d@email.example.org",
			bodyHas:       []string{"Hi there,", "not sell or share my personal information. I'm a California resident.", "sam.lee@example.org & my phone"},
			bodyHasNot:    []string{"<div", "alert(", "color: red", "Request"},
			suggestedType: "opt_out_sale",
		},
		{
			file:       "reply_with_attachment.eml",
			from:       mailbox.Address{Name: "Jane Doe", Address: "jane.doe@example.com"},
			subject:    "Re: We received your privacy request PR-2026-000042",
			date:       time.Date(2026, 3, 6, 11, 20, 31, 0, time.UTC),
			messageID:  "CAF7k2Q=x9@mail.example.com",
			inReplyTo:  "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b@sendara.example",
			references: []string{"CAF7k2Q=x1@mail.example.com", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b@sendara.example"},
			bodyHas:    []string{"Here is a copy of my ID as you asked."},
			bodyHasNot: []string{"<div>", "%PDF"},
			attachments: []mailbox.Attachment{
				{Name: "id-scan.pdf", ContentType: "application/pdf", Size: 20 * int64(len("%PDF-1.4\n% fake passport scan for the test\n"))},
				{Name: "signature.png", ContentType: "image/png", Size: 256},
			},
			reference: "PR-2026-000042",
			// The quoted acknowledgement says "delete"; only the new text
			// counts, and it names no kind of request: only "privacy request"
			// in the subject.
			suggestedType: "other",
		},
		{
			file:          "child_data.eml",
			from:          mailbox.Address{Name: "Maria Garcia", Address: "maria.garcia@example.net"},
			subject:       "My daughter's phone number",
			date:          time.Date(2026, 3, 8, 1, 3, 44, 0, time.UTC),
			messageID:     "a1b2c3@example.net",
			bodyHas:       []string{"My daughter is 11 years old"},
			suggestedType: "child_data",
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := readSample(t, tt.file)
			m, err := mailbox.Parse(raw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.From != tt.from {
				t.Errorf("From = %+v, want %+v", m.From, tt.from)
			}
			if len(m.To) != 1 || m.To[0].Address != "privacy@sendara.example" {
				t.Errorf("To = %+v, want privacy@sendara.example", m.To)
			}
			if m.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.subject)
			}
			if !m.Date.Equal(tt.date) || m.Date.Location() != time.UTC {
				t.Errorf("Date = %v, want %v in UTC", m.Date, tt.date)
			}
			if m.MessageID != tt.messageID || m.InReplyTo != tt.inReplyTo || !slices.Equal(m.References, tt.references) {
				t.Errorf("ids = %q, %q, %q; want %q, %q, %q", m.MessageID, m.InReplyTo, m.References, tt.messageID, tt.inReplyTo, tt.references)
			}
			for _, s := range tt.bodyHas {
				if !strings.Contains(m.TextBody, s) {
					t.Errorf("TextBody lacks %q:\n%s", s, m.TextBody)
				}
			}
			for _, s := range tt.bodyHasNot {
				if strings.Contains(m.TextBody, s) {
					t.Errorf("TextBody has %q:\n%s", s, m.TextBody)
				}
			}
			if !slices.Equal(m.Attachments, tt.attachments) {
				t.Errorf("Attachments = %+v, want %+v", m.Attachments, tt.attachments)
			}
			if m.Reference != tt.reference {
				t.Errorf("Reference = %q, want %q", m.Reference, tt.reference)
			}
			if m.SuggestedType != tt.suggestedType {
				t.Errorf("SuggestedType = %q, want %q", m.SuggestedType, tt.suggestedType)
			}
			if !bytes.Equal(m.Raw, raw) {
				t.Error("Raw differs from the bytes parsed")
			}
		})
	}
}

func TestParseKeepsACopyOfTheRawBytes(t *testing.T) {
	raw := readSample(t, "plain_erasure.eml")
	m, err := mailbox.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	raw[0] = 'X'
	if m.Raw[0] == 'X' {
		t.Error("Raw shares the caller's buffer; evidence must not change when the buffer is reused")
	}
}

func TestParseRefusesWhatIsNotAMessageAndSaysWhy(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		wantErr string
	}{
		{"empty", "", "empty"},
		{"blank", "\r\n\r\n", "empty"},
		{"no header", "just some words\nand more words\n", "header"},
		{"no From", "To: privacy@sendara.example\r\nSubject: delete me\r\n\r\nPlease delete my data.\r\n", "sender"},
		{"From without an address", "From: Jane Doe\r\nSubject: hi\r\n\r\nbody\r\n", "sender"},
		{"multipart without its boundary", "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=zzz\r\n\r\nno parts here\r\n", "boundary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := mailbox.Parse([]byte(tt.raw))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", m)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseCopesWithCommonDamage(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		from     string
		subject  string
		bodyHas  string
		noDate   bool
		attached int
	}{
		{
			name: "a From the strict parser refuses",
			raw:  "From: John Q. Public, Jr. <John@Example.com>\r\nSubject: erase me\r\n\r\nPlease erase me.\r\n",
			from: "john@example.com", subject: "erase me", bodyHas: "Please erase me.",
		},
		{
			name: "a bare address",
			raw:  "From: someone@EXAMPLE.com\nSubject: x\n\nhello\n",
			from: "someone@example.com", subject: "x", bodyHas: "hello",
		},
		{
			name: "no Date header",
			raw:  "From: a@example.com\r\n\r\nbody\r\n",
			from: "a@example.com", bodyHas: "body", noDate: true,
		},
		{
			name: "an unknown charset and invalid UTF-8",
			raw:  "From: a@example.com\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nbad \xff byte\r\n",
			from: "a@example.com", bodyHas: "bad \uFFFD byte",
		},
		{
			name: "a windows-1252 body",
			raw:  "From: a@example.com\r\nContent-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit\r\n\r\nI don\x92t want texts\r\n",
			from: "a@example.com", bodyHas: "I don\u2019t want texts",
		},
		{
			name: "broken base64 decodes as far as it goes",
			raw:  "From: a@example.com\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8gd29y\r\nbGQ=!!!\r\n",
			from: "a@example.com", bodyHas: "Hello world",
		},
		{
			name: "a stray = in quoted-printable is kept",
			raw:  "From: a@example.com\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n2+2=4 and caf=C3=A9\r\n",
			from: "a@example.com", bodyHas: "2+2=4 and café",
		},
		{
			name: "a multipart body cut off before its end",
			raw: "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n" +
				"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=x.pdf\r\n\r\n%PDF",
			from: "a@example.com", bodyHas: "first part", attached: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().UTC()
			m, err := mailbox.Parse([]byte(tt.raw))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.From.Address != tt.from {
				t.Errorf("From = %q, want %q", m.From.Address, tt.from)
			}
			if m.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.subject)
			}
			if !strings.Contains(m.TextBody, tt.bodyHas) {
				t.Errorf("TextBody = %q, want it to contain %q", m.TextBody, tt.bodyHas)
			}
			if tt.noDate && m.Date.Before(before) {
				t.Errorf("Date = %v, want the time of parsing", m.Date)
			}
			if len(m.Attachments) != tt.attached {
				t.Errorf("Attachments = %+v, want %d", m.Attachments, tt.attached)
			}
		})
	}
}

func TestParseDecodesAnRFC2231FileName(t *testing.T) {
	raw := "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n\r\nsee attached\r\n--b1\r\n" +
		"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename*=UTF-8''Ausweis%20M%C3%BCller.pdf\r\n\r\n%PDF\r\n--b1--\r\n"
	m, err := mailbox.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := []mailbox.Attachment{{Name: "Ausweis Müller.pdf", ContentType: "application/pdf", Size: 4}}
	if !slices.Equal(m.Attachments, want) {
		t.Errorf("Attachments = %+v, want %+v", m.Attachments, want)
	}
}

func TestFindReference(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Re: We received your privacy request PR-2026-000042", "PR-2026-000042"},
		{"about pr-2026-000042, thanks", "PR-2026-000042"},
		{"[PR-2027-123456] follow-up", "PR-2027-123456"},
		{"PR-2026-42", ""},
		{"XPR-2026-000042", ""},
		{"nothing here", ""},
	}
	for _, tt := range tests {
		if got := mailbox.FindReference(tt.in); got != tt.want {
			t.Errorf("FindReference(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseFindsTheReferenceInTheBodyWhenTheSubjectHasNone(t *testing.T) {
	raw := "From: a@example.com\r\nSubject: my request\r\n\r\nMy reference is PR-2026-000777, please hurry.\r\n"
	m, err := mailbox.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Reference != "PR-2026-000777" {
		t.Errorf("Reference = %q, want PR-2026-000777", m.Reference)
	}
}
