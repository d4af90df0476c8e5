package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	consent "github.com/sendara/console/models/consent"

	requests "github.com/sendara/console/models/requests"

	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// After a "stop contacting me" request, the customer that held the person
// imports its CRM again and calls the API: every new contact of the
// person's identifiers is opted out, and the check says so.
func TestContactsArrivingAfterAStopRequestAreOptedOut(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	acme := app.customer("acme")
	if _, err := app.db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"+14155550123"}}, "US"); err != nil {
		t.Fatal(err)
	}
	public := store.SystemProcess("public-form", "public request form")
	if _, err := app.db.CreateRequest(ctx, public, calendar.DefaultBusiness(), requests.RequestInput{Type: calendar.TypeObjection, Regime: "gdpr", Channel: "web_form",
		Identifiers: []string{"+14155550123", "jane@example.com", "+14155550177", "jane.work@example.com"}, Requester: requests.Requester{Email: "jane@example.com"}}, "US"); err != nil {
		t.Fatal(err)
	}

	admin, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	admin.get("/imports")
	p := admin.uploadCSV(url.Values{"kind": {"contacts"}}, "crm.csv", "Email,Name\njane@example.com,Jane\nann@example.com,Ann\n", false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", p.Status, p.Body)
	}
	admin.get(p.Location())
	admin.post(p.Location()+"/start", nil)
	app.runImports()

	api := app.apiKey(t, acme)
	if a := api.post("/api/v1/contacts", map[string]any{"identifiers": []string{"jane.work@example.com"}}); a.Status != http.StatusCreated && a.Status != http.StatusOK {
		t.Fatalf("API create: %d %s", a.Status, a.Raw)
	}
	if a := api.post("/api/v1/opt-ins", map[string]any{"to": "+1 415 555 0177", "evidence": "CRM sync"}); a.Status != http.StatusConflict {
		t.Errorf("an API opt-in for the person: %d %s, want 409 (an objection is not lifted by an opt-in)", a.Status, a.Raw)
	}
	for _, to := range []string{"jane@example.com", "jane.work@example.com", "+14155550177"} {
		a := api.get(check(to))
		if a.Status != http.StatusOK || a.Body["suppressed"] != true || a.Body["reason"] != consent.ReasonObjection {
			t.Errorf("check %s: %s, want suppressed for objection", to, a.Raw)
		}
	}
	if a := api.get(check("ann@example.com")); a.Body["suppressed"] != false {
		t.Errorf("someone else in the same import: %s", a.Raw)
	}
}
