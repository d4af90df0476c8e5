package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/sendara/console/models/modeltest"
	registers "github.com/sendara/console/models/registers"
)

func TestStaffAdminSetsRetentionButNotBelowTheRequestLogsTwoYears(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	admin := app.user(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	c := app.client()
	c.login(admin)

	p := c.get("/retention")
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid=retention-rules] tbody tr`).Length() != len(registers.RetentionCategories) {
		t.Fatalf("retention page: %d\n%s", p.Status, p.Body)
	}
	if kept := p.text(`[data-testid=kept-forever]`); !strings.Contains(kept, "Audit log") || !strings.Contains(kept, "Suppression list") {
		t.Errorf("the page does not say what is kept: %q", kept)
	}

	p = c.post("/retention/rules/closed_requests", url.Values{"days": {"365"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.text(`#err-days`), "CCPA §7101") {
		t.Fatalf("a one-year request log: %d, error %q", p.Status, p.text(`#err-days`))
	}
	if v, _ := p.Doc.Find(`#days-closed_requests`).Attr("value"); v != "365" {
		t.Errorf("the refused value is not shown again: %q", v)
	}
	p = c.post("/retention/rules/closed_requests", url.Values{"days": {"1095"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("three years: %d %s", p.Status, p.Body)
	}
	p = c.get("/retention")
	if v, _ := p.Doc.Find(`#days-closed_requests`).Attr("value"); v != "1095" {
		t.Errorf("closed requests now kept %q days, want 1095", v)
	}
	if !strings.Contains(p.text(`.flash`), "kept for 1095 days") {
		t.Errorf("flash %q", p.text(`.flash`))
	}
	if got := app.auditActions(); slices.Index(got, "retention.rule_change") < 0 {
		t.Errorf("the change is not audited: %v", got)
	}
}

func TestRetentionIsStaffOnlyAndAuditorsOnlyRead(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	cases := []struct {
		name       string
		acc        *account
		page, save int
	}{
		{"auditor", app.user(accounts.RoleAuditor, nil, "auditor@sendara.test"), http.StatusOK, http.StatusForbidden},
		{"privacy officer", app.user(accounts.RolePrivacyOfficer, nil, "po@sendara.test"), http.StatusOK, http.StatusForbidden},
		{"customer admin", app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test"), http.StatusForbidden, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := app.client()
			c.login(tc.acc)
			p := c.get("/retention")
			if p.Status != tc.page {
				t.Fatalf("page: %d, want %d", p.Status, tc.page)
			}
			if p.Status == http.StatusOK && p.Doc.Find(`form[action^="/retention/rules/"]`).Length() != 0 {
				t.Error("the rules can be edited by a role that may not change them")
			}
			if p := c.post("/retention/rules/sessions", url.Values{"days": {"5"}}); p.Status != tc.save {
				t.Errorf("change a rule: %d, want %d", p.Status, tc.save)
			}
			if p := c.post("/retention/sweep", nil); p.Status != tc.save {
				t.Errorf("sweep: %d, want %d", p.Status, tc.save)
			}
		})
	}
}

func TestRetentionPreviewThenSweepNowThenHold(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	acme := app.customer("acme")
	admin := app.user(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	officer := app.user(accounts.RolePrivacyOfficer, nil, "po@sendara.test")
	contact := app.contact(t, acme, "Jane Doe", "+14155550123")
	old := time.Now().AddDate(-3, 0, 0)
	for range 2 {
		if _, err := app.db.RecordCommunication(ctx, modeltest.Staff, acme.ID, registers.CommunicationInput{ContactID: contact.ID,
			Channel: consent.ChannelIMessage, Direction: registers.DirectionOutbound, DeliveryStatus: "delivered", OccurredAt: old}); err != nil {
			t.Fatal(err)
		}
	}
	po := app.client()
	po.login(officer)
	po.get("/retention")
	if p := po.post("/retention/holds", url.Values{"customer_id": {acme.ID}}); p.Status != http.StatusUnprocessableEntity || p.text(`#err-reason`) == "" {
		t.Fatalf("a hold without a reason: %d %q", p.Status, p.text(`#err-reason`))
	}
	if p := po.post("/retention/holds", url.Values{"customer_id": {acme.ID}, "reason": {"subpoena 24-117"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("place hold: %d %s", p.Status, p.Body)
	}

	c := app.client()
	c.login(admin)
	p := c.get("/retention/preview")
	if p.Status != http.StatusOK || p.text(`[data-testid=preview-empty]`) == "" {
		t.Fatalf("preview under a customer hold: %d %q", p.Status, p.text(`[data-testid=retention-preview]`))
	}
	if got := p.text(`[data-testid=retention-holds]`); !strings.Contains(got, "customer Acme Inc") || !strings.Contains(got, "subpoena 24-117") {
		t.Errorf("holds shown: %q", got)
	}
	release, _ := p.Doc.Find(`[data-testid=retention-holds] form`).Attr("action")
	if p := c.post(release, nil); p.Status != http.StatusSeeOther {
		t.Fatalf("release: %d", p.Status)
	}
	p = c.get("/retention/preview")
	row := p.Doc.Find(`[data-testid=retention-preview] tr[data-category=communications]`)
	if got := strings.Join(row.Find("td").Map(func(_ int, s *goquery.Selection) string { return s.Text() }), " | "); got != "Acme Inc | Communication records | 2" {
		t.Errorf("preview row %q", got)
	}
	c.post("/retention/sweep", nil)
	p = c.get("/retention")
	if !strings.Contains(p.text(`.flash`), "2 row(s) removed") || !strings.Contains(p.text(`[data-testid=last-run]`), "2 row(s) removed") {
		t.Errorf("after the sweep: flash %q, last run %q", p.text(`.flash`), p.text(`[data-testid=last-run]`))
	}
	actions := app.auditActions()
	for _, want := range []string{"retention_hold.place", "retention_hold.release", "retention.preview", "retention.sweep", "retention.run"} {
		if !slices.Contains(actions, want) {
			t.Errorf("no %s in the audit log", want)
		}
	}
}

func TestStaffAdminReactivatesACancelledCustomerOnlyWithinTheWindow(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	admin := app.user(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	c := app.client()
	c.login(admin)
	c.get("/customers/" + acme.ID)
	if p := c.post("/customers/"+acme.ID+"/cancel", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("cancel: %d", p.Status)
	}
	p := c.get("/customers/" + acme.ID)
	if p.Doc.Find(`[data-testid=reactivate]`).Length() != 1 {
		t.Fatal("no way to reactivate a cancelled customer")
	}
	if p := c.post("/customers/"+acme.ID+"/reactivate", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("reactivate: %d %s", p.Status, p.Body)
	}
	if cust, _ := app.db.Customer(context.Background(), modeltest.Staff, acme.ID); cust.Status != customers.CustomerActive {
		t.Errorf("status after reactivation: %s", cust.Status)
	}
	c.get("/customers/" + acme.ID)
	c.post("/customers/"+acme.ID+"/cancel", nil)
	if err := app.db.Gorm.Exec("UPDATE customers SET cancelled_at = ? WHERE id = ?", time.Now().AddDate(0, 0, -31), acme.ID).Error; err != nil {
		t.Fatal(err)
	}
	c.get("/customers/" + acme.ID)
	p = c.post("/customers/"+acme.ID+"/reactivate", nil)
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, "reactivation window of acme ended") {
		t.Errorf("reactivate after the window: %d %s", p.Status, p.text("main"))
	}
}
