package mailbox_test

import (
	"testing"

	"github.com/sendara/console/mailbox"
)

func TestSuggestTypeReadsHowPeopleAsk(t *testing.T) {
	tests := []struct {
		subject, body string
		want          string
	}{
		// Erasure.
		{"Delete my data", "", "erasure"},
		{"", "Please erase everything you hold about me.", "erasure"},
		{"Request", "I want you to remove my information from your systems.", "erasure"},
		{"", "Forget me. I never signed up for this.", "erasure"},
		{"Right to be forgotten", "", "erasure"},
		{"", "Kindly remove me from your database and records.", "erasure"},
		{"", "Please stop texting me and delete my number.", "erasure"},
		{"GDPR Art. 17", "I request the erasure of my personal data without undue delay.", "erasure"},

		// Access.
		{"", "What data do you have on me?", "access"},
		{"Subject Access Request", "Under Article 15 GDPR ...", "access"},
		{"", "Please send me a copy of my data.", "access"},
		{"access request", "", "access"},
		{"", "What personal information do you hold about me and where did you get it?", "access"},
		{"DSAR", "", "access"},
		{"", "How did you get my number?", "access"},

		// California wording turns access, erasure and correction into
		// know, delete and correct.
		{"CCPA request", "I'd like to know what personal information you have collected about me. What data do you have about me?", "know"},
		{"Right to know", "", "know"},
		{"", "As a California resident I ask you to delete my personal information.", "delete"},
		{"CCPA", "Please correct my address, it is wrong.", "correct"},

		// Sale and sharing.
		{"Do Not Sell or Share My Personal Information", "", "opt_out_sale"},
		{"", "Don't sell or share my info please.", "opt_out_sale"},
		{"", "Don\u2019t sell my data.", "opt_out_sale"},
		{"Opt out of sale", "", "opt_out_sale"},
		{"", "I want to opt-out of the sale of my personal information.", "opt_out_sale"},

		// Objection: stop contacting me.
		{"", "Stop texting me!!", "objection"},
		{"STOP MESSAGING ME", "", "objection"},
		{"Unsubscribe", "", "objection"},
		{"", "Please remove me from your mailing list.", "objection"},
		{"", "Do not contact me again.", "objection"},
		{"", "I object to you using my data for marketing.", "objection"},
		{"", "I withdraw my consent.", "objection"},

		// Rectification.
		{"", "Please correct my surname, it is spelled Smyth not Smith.", "rectification"},
		{"Update my address", "I moved last year.", "rectification"},
		{"", "You have the wrong information: my name is not Bob.", "rectification"},
		{"", "My phone number you have is outdated.", "rectification"},

		// Children.
		{"My son", "Please delete everything about my son, he is 9.", "child_data"},
		{"", "My daughter is 12 years old. Delete her number now.", "child_data"},
		{"", "I am writing about my child. Please erase his data.", "child_data"},
		{"", "My daughter is getting texts, please stop texting her.", "objection"},

		// Portability and restriction.
		{"Export my data", "", "portability"},
		{"", "I want my data in a portable, machine-readable format.", "portability"},
		{"", "Please restrict processing of my data while you check its accuracy.", "restriction"},
		{"", "I ask for the restriction of processing under Article 18.", "restriction"},

		// A privacy request of no recognisable kind.
		{"GDPR request", "I have a question about my rights.", "other"},
		{"", "Question about the privacy policy", "other"},

		// Nothing to do with privacy.
		{"Invoice 4471", "Please find attached our invoice for March.", ""},
		{"Hello", "I can't stop laughing at your ad.", ""},
		{"", "", ""},
		// Quoted text of an earlier message does not count.
		{"Re: your request", "Thanks!\n\nOn Mon, 2 Mar 2026, Sendara wrote:\n> You asked us to delete your data.", ""},
		{"Re: x", "Thanks!\n> Please delete my data.\n", ""},
	}
	for _, tt := range tests {
		if got := mailbox.SuggestType(tt.subject, tt.body); got != tt.want {
			t.Errorf("SuggestType(%q, %q) = %q, want %q", tt.subject, tt.body, got, tt.want)
		}
	}
}
