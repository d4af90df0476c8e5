package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	customers "github.com/sendara/console/models/customers"

	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// TestAuditRowsShowNamesBesideIds: each row of /audit shows the acting
// user's name with their email and id, and the customer's name with its
// id; a customer admin's page never names another tenant. The glossary
// on the page explains each action.
func TestAuditRowsShowNamesBesideIds(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	acme, other := app.customer("acme"), app.customer("other")
	if err := app.db.Gorm.Model(&customers.Customer{}).Where("id = ?", acme.ID).Update("name", "Acme Widgets Ltd").Error; err != nil {
		t.Fatal(err)
	}
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	if err := app.db.Gorm.Model(&accounts.User{}).Where("id = ?", admin.User.ID).Update("name", "Ada Admin").Error; err != nil {
		t.Fatal(err)
	}
	// Entries by the admin about acme, and one about the other tenant.
	c := app.client()
	c.login(admin)
	c.get("/contacts")
	if err := app.db.Record(ctx, modeltest.Staff, store.Audit{Action: "contact.view", ObjectType: "contact", CustomerID: other.ID}); err != nil {
		t.Fatal(err)
	}
	staff, _ := app.signedIn(accounts.RoleAuditor, nil, "auditor@sendara.test")
	p := staff.get("/audit?action=contact.list")
	row := p.Doc.Find(`table[data-testid="audit"] tbody tr`).First()
	actorCell := strings.Join(strings.Fields(row.Find(`[data-testid="audit-actor"]`).Text()), " ")
	if !strings.Contains(actorCell, "Ada Admin <admin@acme.test>") || !strings.Contains(actorCell, admin.User.ID) {
		t.Errorf("actor cell %q, want the name, the email and the id %s", actorCell, admin.User.ID)
	}
	custCell := strings.Join(strings.Fields(row.Find(`[data-testid="audit-customer"]`).Text()), " ")
	if !strings.Contains(custCell, "Acme Widgets Ltd") || !strings.Contains(custCell, acme.ID) {
		t.Errorf("customer cell %q, want Acme Widgets Ltd and %s", custCell, acme.ID)
	}
	if title, _ := row.Find("code[title]").Attr("title"); !strings.Contains(title, "list of contacts") {
		t.Errorf("action title %q does not explain contact.list", title)
	}
	glossary := p.Doc.Find(`[data-testid="audit-actions"] dl`)
	found := false
	glossary.Find("dt").Each(func(_ int, dt *goquery.Selection) {
		if dt.Text() == "audit.verify" && strings.Contains(dt.Next().Text(), "hash chain") {
			found = true
		}
	})
	if !found {
		t.Errorf("glossary lacks audit.verify: %q", glossary.Text())
	}
	// The customer admin sees its own log: no other tenant's name or id.
	mine := c.get("/audit")
	if mine.Status != 200 {
		t.Fatalf("admin /audit: %d", mine.Status)
	}
	if strings.Contains(mine.Body, other.ID) || strings.Contains(mine.Body, other.Name) {
		t.Errorf("customer admin's log names the other tenant")
	}
	if !strings.Contains(mine.Body, "Acme Widgets Ltd") {
		t.Errorf("customer admin's log lacks its own customer's name")
	}
}
