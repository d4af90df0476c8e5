package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	registers "github.com/sendara/console/models/registers"

	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/mailbox"
	requests "github.com/sendara/console/models/requests"
)

// An account-compromise report from the mailbox is urgent on the pages,
// but the API names only DESIGN §5's request types: its suggestion is
// "other", by id and by the requester's email.
func TestDemoAPISuggestedAccountCompromiseIsOther(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	subject, body := "Our account was hacked", "Someone logged into our account and exported contacts last night."
	suggested := mailbox.SuggestType(subject, body)
	if suggested != registers.SuggestedAccountCompromise {
		t.Fatalf("the mailbox suggests %q for an account-compromise mail, want %q", suggested, registers.SuggestedAccountCompromise)
	}
	r, _, err := app.db.ReceiveMail(ctx, calendar.DefaultBusiness(), "US", requests.MailIntake{MessageID: "demo-hacked@example.com",
		FromAddr: "owner@acme.example", Subject: subject, Body: body, SuggestedType: suggested,
		Raw: []byte("From: owner@acme.example\r\nSubject: " + subject + "\r\n\r\n" + body + "\r\n"), ReceivedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if r.SuggestedType != registers.SuggestedAccountCompromise {
		t.Fatalf("stored suggestion %q", r.SuggestedType)
	}
	staffAPI := app.apiKey(t, nil)
	got := staffAPI.get("/api/v1/requests/" + r.ID)
	if got.Status != 200 {
		t.Fatalf("GET /api/v1/requests/%s: %d %s", r.ID, got.Status, got.Raw)
	}
	if got.Body["suggested_type"] != calendar.TypeOther {
		t.Errorf("suggested_type %v, want %q (DESIGN §5 lists only request types)", got.Body["suggested_type"], calendar.TypeOther)
	}
	if strings.Contains(got.Raw, "account_compromise") {
		t.Errorf("the API answer names account_compromise: %s", got.Raw)
	}
	list := staffAPI.get("/api/v1/requests?email=" + url.QueryEscape("owner@acme.example"))
	if list.Status != 200 || strings.Contains(list.Raw, "account_compromise") || !strings.Contains(list.Raw, `"suggested_type":"other"`) {
		t.Errorf("GET /api/v1/requests?email=: %d %s, want the request with suggested_type other", list.Status, list.Raw)
	}

	officer := app.client()
	officer.login(app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test"))
	if page := officer.get("/requests/" + r.ID); !strings.Contains(page.Body, "URGENT: account compromise") {
		t.Errorf("the request page does not show the urgent label (status %d)", page.Status)
	}
}
