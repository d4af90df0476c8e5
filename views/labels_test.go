package views_test

import (
	calendar "github.com/sendara/console/models/calendar"
	outbox "github.com/sendara/console/models/outbox"

	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	requests "github.com/sendara/console/models/requests"
	"github.com/sendara/console/views"
)

// timelineKinds finds every kind of timeline entry the models write: the
// kinds given to event(…), the request.* actions (updateRequest writes
// each one's tail as the entry's kind) and RequestEvent literals. A new
// kind added anywhere in the models' packages is found here without a list to update.
func timelineKinds(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "models", "*", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("read models: %v", err)
	}
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`\.Event\([^,()]+,\s*"([a-z_]+)"`),
		regexp.MustCompile(`"request\.([a-z_]+)"`),
		regexp.MustCompile(`RequestEvent\{[^}]*Kind:\s*"([a-z_]+)"`),
	}
	seen := map[string]bool{}
	var kinds []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range patterns {
			for _, m := range re.FindAllStringSubmatch(string(src), -1) {
				// "request.json" is a file in the case file's zip, not an event.
				if m[1] == "json" {
					continue
				}
				if !seen[m[1]] {
					seen[m[1]] = true
					kinds = append(kinds, m[1])
				}
			}
		}
	}
	if !seen["route"] || !seen["received"] || !seen["retention"] {
		t.Fatalf("the scan of models/ missed kinds it must find: %v", kinds)
	}
	return kinds
}

func TestEveryCodeHasALabel(t *testing.T) {
	sets := []struct {
		set   views.LabelSet
		codes []string
	}{
		{views.LabelStatus, requests.RequestStatuses},
		{views.LabelType, calendar.RequestTypes},
		{views.LabelRegime, calendar.Regimes},
		{views.LabelChannel, requests.RequestChannels},
		{views.LabelRelationship, requests.Relationships},
		{views.LabelEvent, timelineKinds(t)},
		{views.LabelTask, []string{requests.TaskPending, requests.TaskApproved, requests.TaskDenied, requests.TaskInstructed}},
		{views.LabelMailKind, outbox.MailKinds},
		{views.LabelMailStatus, []string{outbox.MailQueued, outbox.MailSent, outbox.MailFailed, outbox.MailHeld}},
		{views.LabelMethod, append(append([]string{}, requests.VerificationMethods...), "skipped")},
		{views.LabelProposal, []string{requests.ProposalOpen, requests.ProposalAccepted, requests.ProposalDismissed}},
	}
	for _, s := range sets {
		for _, code := range s.codes {
			if !views.HasLabel(s.set, code) {
				t.Errorf("the %s %q has no label: add one to views/labels.go", s.set, code)
				continue
			}
			if l := views.Label(s.set, code); l == "" || (strings.Contains(code, "_") && l == code) {
				t.Errorf("the %s %q is labelled %q, which is no label", s.set, code, l)
			}
		}
	}
}

func TestLabelsSayCodesInWords(t *testing.T) {
	tests := []struct {
		set        views.LabelSet
		code, want string
	}{
		{views.LabelStatus, requests.StatusWithController, "with the controllers"},
		{views.LabelStatus, requests.StatusWaiting, "waiting on the requester (clock stopped)"},
		{views.LabelType, calendar.TypeOptOutSale, "opt-out of sale or sharing"},
		{views.LabelRegime, calendar.RegimeUKGDPR, "UK GDPR"},
		{views.LabelChannel, "web_form", "public web form"},
		{views.LabelRelationship, "authorized_agent", "an authorized agent"},
		{views.LabelEvent, "verify_identifier", "identifier verified"},
		{views.LabelEvent, "controller_answer", "a controller answered"},
		{views.LabelTask, requests.TaskInstructed, "instructed Sendara"},
		{views.LabelMailStatus, outbox.MailHeld, "held (not sent)"},
		{views.LabelMethod, "phone_call", "call-back to the phone"},
		// A code nobody labelled still reads without underscores.
		{views.LabelEvent, "brand_new_kind", "brand new kind"},
	}
	for _, tt := range tests {
		if got := views.Label(tt.set, tt.code); got != tt.want {
			t.Errorf("Label(%s, %q) = %q, want %q", tt.set, tt.code, got, tt.want)
		}
	}
}
