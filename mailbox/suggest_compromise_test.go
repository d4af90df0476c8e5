package mailbox_test

import (
	"testing"

	"github.com/sendara/console/mailbox"
)

func TestSuggestTypeFlagsAccountCompromiseAsItsOwnUrgentType(t *testing.T) {
	tests := []struct {
		subject, body string
		want          string
	}{
		{"Urgent: our account was hacked", "Someone changed our webhook URL overnight.", mailbox.AccountCompromise},
		{"", "I think someone logged into my account from another country.", mailbox.AccountCompromise},
		{"Unauthorized access", "We see logins we did not make.", mailbox.AccountCompromise},
		{"", "Our API key was leaked on GitHub: leaked API key sk_live...", mailbox.AccountCompromise},
		{"Security breach", "Please delete all data you hold about our customers, we had a security breach.", mailbox.AccountCompromise},
		{"", "I didn't sign in yesterday but got a sign-in alert.", mailbox.AccountCompromise},
		// Not a compromise: ordinary requests keep their type.
		{"Delete my data", "Please erase my account.", "erasure"},
		{"", "What data do you have on me?", "access"},
		{"", "My password is too long to type, can you help?", ""},
	}
	for _, tt := range tests {
		if got := mailbox.SuggestType(tt.subject, tt.body); got != tt.want {
			t.Errorf("SuggestType(%q, %q) = %q, want %q", tt.subject, tt.body, got, tt.want)
		}
	}
}
