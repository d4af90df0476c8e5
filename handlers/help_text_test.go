package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	accounts "github.com/sendara/console/models/accounts"
	store "github.com/sendara/console/models/store"
)

func TestHelpRepliesAreAnsweredWithTheCustomersOwnText(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	api := app.apiKey(t, acme)
	help := func(from, body string) apiAnswer {
		t.Helper()
		a := api.post("/api/v1/inbound", map[string]any{"from": from, "body": body})
		if a.Status != 200 || a.Body["action"] != "help" {
			t.Fatalf("%s: %d %s, want action help", body, a.Status, a.Raw)
		}
		return a
	}
	// Unset: a default naming the business and how to opt out.
	if got, _ := help("+14155550101", "HELP").Body["reply"].(string); !strings.Contains(got, acme.Name) || !strings.Contains(got, "STOP") {
		t.Errorf("default answer to HELP = %q, want the business's name and STOP", got)
	}
	if a := api.post("/api/v1/inbound", map[string]any{"from": "+14155550101", "body": "See you Tuesday"}); a.Body["reply"] != nil {
		t.Errorf("an ordinary reply carries an answer: %s", a.Raw)
	}

	admin, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	page := admin.get("/replies")
	if page.Doc.Find(`[data-testid=help-text] textarea[name=help_text]`).Length() != 1 || !strings.Contains(page.text(`[data-testid=help-default]`), "STOP") {
		t.Fatalf("the replies page has no help text form showing the default")
	}
	bad := admin.post("/replies/help-text", url.Values{"help_text": {"Acme Dental, call us on 415 555 0100"}})
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.text(`[data-testid=help-text]`), "how to opt out") {
		t.Errorf("a text without STOP: %d, want 422 saying it must tell how to opt out", bad.Status)
	}
	const text = "Acme Dental: appointment reminders. Help: 415 555 0100. Reply STOP to opt out."
	if p := admin.post("/replies/help-text", url.Values{"help_text": {text}}); p.Status != http.StatusSeeOther {
		t.Fatalf("save help text: %d\n%s", p.Status, p.Body)
	}
	if got := admin.get("/replies").text(`[data-testid=help-text] textarea`); got != text {
		t.Errorf("the form shows %q after saving, want %q", got, text)
	}
	for _, kw := range []string{"help", "AYUDA", "Aide"} {
		if got := help("+14155550102", kw).Body["reply"]; got != text {
			t.Errorf("%s answered with %v, want the customer's text", kw, got)
		}
	}
	var audits []store.AuditEvent
	app.db.Gorm.Where("action = ? AND customer_id = ?", "customer.help_text", acme.ID).Find(&audits)
	if len(audits) != 1 || !strings.Contains(audits[0].Details, "Reply STOP to opt out") {
		t.Errorf("help text audit = %+v, want one entry with the new text", audits)
	}

	// Agents answer replies but do not set the customer's wording; other
	// customers keep theirs.
	agent, _ := app.signedIn(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	if p := agent.post("/replies/help-text", url.Values{"help_text": {"Reply STOP, whatever"}}); p.Status != http.StatusForbidden {
		t.Errorf("an agent setting the help text: %d, want 403", p.Status)
	}
	other := app.apiKey(t, app.customer("other"))
	if a := other.post("/api/v1/inbound", map[string]any{"from": "+14155550103", "body": "HELP"}); a.Body["reply"] == text {
		t.Error("another customer answers HELP with acme's text")
	}
}
