package mailer_test

import (
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/sendara/console/mailer"
)

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		url  string
		want mailer.SMTPConfig
	}{
		{"smtp://mail.example.com", mailer.SMTPConfig{Host: "mail.example.com", Port: 25, TLS: gomail.TLSMandatory, Timeout: 30 * time.Second}},
		{"smtp://127.0.0.1:2525", mailer.SMTPConfig{Host: "127.0.0.1", Port: 2525, TLS: gomail.TLSOpportunistic, Timeout: 30 * time.Second}},
		{"smtp://localhost", mailer.SMTPConfig{Host: "localhost", Port: 25, TLS: gomail.TLSOpportunistic, Timeout: 30 * time.Second}},
		{"smtp://apikey:s%40cr%2Ft@smtp.example.com:587?auth=plain&timeout=10s",
			mailer.SMTPConfig{Host: "smtp.example.com", Port: 587, TLS: gomail.TLSMandatory, Username: "apikey", Password: "s@cr/t",
				Auth: gomail.SMTPAuthPlain, Timeout: 10 * time.Second}},
		{"smtps://user:pw@smtp.example.com", mailer.SMTPConfig{Host: "smtp.example.com", Port: 465, ImplicitTLS: true, TLS: gomail.TLSMandatory,
			Username: "user", Password: "pw", Auth: gomail.SMTPAuthAutoDiscover, Timeout: 30 * time.Second}},
		{"SMTP://relay.internal:25?tls=none&helo=console.example", mailer.SMTPConfig{Host: "relay.internal", Port: 25, TLS: gomail.NoTLS,
			HELO: "console.example", Timeout: 30 * time.Second}},
		{"smtp://[::1]:1025", mailer.SMTPConfig{Host: "::1", Port: 1025, TLS: gomail.TLSOpportunistic, Timeout: 30 * time.Second}},
	}
	for _, tt := range tests {
		got, err := mailer.ParseSMTPURL(tt.url)
		if err != nil {
			t.Errorf("ParseSMTPURL(%q): %v", tt.url, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseSMTPURL(%q) = %+v, want %+v", tt.url, got, tt.want)
		}
	}
}

func TestParseSMTPURLRefusesWhatItCannotUse(t *testing.T) {
	tests := []struct{ url, says string }{
		{"http://mail.example.com", "smtp:// or smtps://"},
		{"mail.example.com:25", "smtp:// or smtps://"},
		{"smtp://", "no host"},
		{"smtp://mail.example.com:0", "port"},
		{"smtp://mail.example.com:99999", "port"},
		{"smtp://mail.example.com?tls=maybe", "tls must be"},
		{"smtps://mail.example.com?tls=none", "always TLS"},
		{"smtp://mail.example.com?auth=plain", "needs a user name"},
		{"smtp://u:p@mail.example.com?auth=kerberos", "auth must be"},
		{"smtp://mail.example.com?timeout=soon", "timeout"},
		{"smtp://mail.example.com?starttls=1", "unknown setting"},
	}
	for _, tt := range tests {
		_, err := mailer.ParseSMTPURL(tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("ParseSMTPURL(%q) = %v, want an error saying %q", tt.url, err, tt.says)
		}
	}
}

func TestParseSMTPURLNeverShowsThePassword(t *testing.T) {
	_, err := mailer.ParseSMTPURL("smtp://user:hunter2secret@mail.example.com:bad")
	if err == nil || strings.Contains(err.Error(), "hunter2secret") {
		t.Errorf("error = %v; it must not contain the password", err)
	}
	cfg, err := mailer.ParseSMTPURL("smtp://user:hunter2secret@mail.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.String(); strings.Contains(s, "hunter2secret") || !strings.Contains(s, "user:***@mail.example.com:25") {
		t.Errorf("String() = %q", s)
	}
}
