package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	requests "github.com/sendara/console/models/requests"

	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// Staff verify a phone on the case page after routing: the business that
// holds it appears among the controllers, waiting for its answer, and its
// admin finds the request in "Requests from Sendara".
func TestVerifyingAnIdentifierAfterRoutingRoutesItFromTheCasePage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	acme, bolt := app.customer("acme"), app.customer("bolt")
	app.contact(t, acme, "Jane", "jane@example.com")
	app.contact(t, bolt, "Jane", "+14155550123")
	// The public form: the emailed link verifies the requester's address only.
	var token string
	r, err := app.db.CreateRequestThen(ctx, store.SystemProcess("public-form", "public request form"), calendar.DefaultBusiness(), requests.RequestInput{Type: calendar.TypeAccess, Regime: "gdpr",
		Channel: "web_form", Identifiers: []string{"jane@example.com", "+14155550123"}, Requester: requests.Requester{Email: "jane@example.com"}}, "US",
		func(tx *store.Tx, r *requests.PrivacyRequest) error {
			return requests.SendVerificationLink(tx, r.ID, func(tok string) string { token = tok; return "http://console.test/confirm/" + tok })
		})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.VerifyByLink(ctx, token, "203.0.113.9"); err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.Route(ctx, modeltest.Staff, calendar.DefaultBusiness(), r.ID, "http://console.test/inbox"); err != nil {
		t.Fatal(err)
	}
	boltAdmin := app.client()
	boltAdmin.login(app.user(accounts.RoleCustomerAdmin, bolt, "admin@bolt.test"))
	if got := boltAdmin.get("/inbox").text(`[data-testid=inbox]`); strings.Contains(got, r.Reference) {
		t.Fatalf("bolt was told before the phone was verified: %q", got)
	}

	staff, _ := app.signedIn(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	page := "/requests/" + r.ID
	staff.get(page)
	if p := staff.post(page+"/verify-identifier", url.Values{"value": {"+14155550123"}, "method": {"phone_call"}, "note": {"called back; Jane answered"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("verify the phone: status %d\n%s", p.Status, p.Body)
	}
	p := staff.get(page)
	tasks := p.text(`[data-testid=tasks]`)
	if !strings.Contains(tasks, "BOLT") && !strings.Contains(tasks, "Bolt") {
		t.Errorf("bolt is not among the controllers: %q", tasks)
	}
	if !strings.Contains(tasks, "waiting for the controller") {
		t.Errorf("bolt's task is not shown waiting: %q", tasks)
	}
	if got := p.text(`[data-testid=timeline]`); !strings.Contains(got, "Routed to the controllers holding it") {
		t.Errorf("the timeline does not say the phone was routed:\n%s", got)
	}
	if got := boltAdmin.get("/inbox").text(`[data-testid=inbox]`); !strings.Contains(got, r.Reference) {
		t.Errorf("bolt's inbox does not hold the request: %q", got)
	}
}
