package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	fulfilment "github.com/sendara/console/models/fulfilment"

	requests "github.com/sendara/console/models/requests"

	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// instructedRequest records a request of typ about ids and takes it to
// work in progress: verified, routed, and approved by every controller.
func (a *testApp) instructedRequest(t *testing.T, typ string, ids ...string) *requests.PrivacyRequest {
	t.Helper()
	r := a.verifiedRequest(t, typ, ids...)
	ctx := context.Background()
	if _, err := a.db.Route(ctx, modeltest.Staff, calendar.DefaultBusiness(), r.ID, "http://console.test/inbox"); err != nil {
		t.Fatal(err)
	}
	tasks, err := a.db.Tasks(ctx, modeltest.Staff, r.ID)
	if err != nil || len(tasks) == 0 {
		t.Fatalf("tasks: %d, %v", len(tasks), err)
	}
	for _, task := range tasks {
		admin := store.CustomerUser(uuid.NewString(), "admin", task.CustomerID, "")
		if _, err := a.db.AnswerTask(ctx, admin, task.ID, requests.TaskApproved, ""); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func (a *testApp) verifiedRequest(t *testing.T, typ string, ids ...string) *requests.PrivacyRequest {
	t.Helper()
	ctx := context.Background()
	r, err := a.db.CreateRequest(ctx, modeltest.Staff, calendar.DefaultBusiness(), requests.RequestInput{Type: typ, Regime: "gdpr",
		Channel: "api", Identifiers: ids, Requester: requests.Requester{Email: "jane@example.com"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.VerifyManually(ctx, modeltest.Staff, r.ID, "email_reply", "replied from the address on file"); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAnExportLinkIsShownOnceAndWorksUntilItExpires(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	app.contact(t, acme, "Jane Doe", "+14155550123", "jane@example.com")
	r := app.instructedRequest(t, calendar.TypeAccess, "+14155550123")

	c := app.client()
	c.login(officer)
	page := c.get("/requests/" + r.ID)
	if page.Doc.Find(`[data-testid=subject-contacts] tbody tr`).Length() != 1 || page.Doc.Find(`[data-testid=export-form]`).Length() != 1 {
		t.Fatalf("the case page lacks the subject or the export form:\n%s", page.text(`[data-testid=fulfilment]`))
	}
	if page.Doc.Find(`[data-testid=erase-form]`).Length() != 0 {
		t.Error("an access request offers erasure")
	}
	made := c.post("/requests/"+r.ID+"/export", url.Values{"for": {""}})
	link, _ := made.Doc.Find(`[data-testid=export-url]`).Attr("value")
	if made.Status != http.StatusOK || !strings.HasPrefix(link, "/exports/requests/") || len(link) < len("/exports/requests/")+40 {
		t.Fatalf("export: %d, link %q", made.Status, link)
	}
	again := c.get("/requests/" + r.ID)
	if again.Doc.Find(`[data-testid=export-link]`).Length() != 0 || strings.Contains(again.Body, link) {
		t.Error("the link is shown a second time")
	}
	if again.Doc.Find(`[data-testid=exports] tbody tr`).Length() != 1 || !strings.Contains(again.text(`[data-testid=timeline]`), "Access bundle prepared") {
		t.Errorf("the case does not list the bundle:\n%s", again.text(`[data-testid=fulfilment]`))
	}

	// Anyone holding the link downloads the zip, without signing in.
	anon := app.client()
	dl := anon.get(link)
	if dl.Status != http.StatusOK || dl.Header.Get("Content-Type") != "application/zip" ||
		!strings.Contains(dl.Header.Get("Content-Disposition"), r.Reference) || dl.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("download: %d %v", dl.Status, dl.Header)
	}
	zr, err := zip.NewReader(bytes.NewReader([]byte(dl.Body)), int64(len(dl.Body)))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if !strings.Contains(strings.Join(names, " "), "README.txt") || !strings.Contains(strings.Join(names, " "), "acme/contacts.json") {
		t.Errorf("the zip holds %v", names)
	}
	if p := anon.get("/exports/requests/" + strings.Repeat("x", 43)); p.Status != http.StatusNotFound {
		t.Errorf("a made-up link: %d", p.Status)
	}
	if err := app.db.Gorm.Model(&fulfilment.RequestExport{}).Where("request_id = ?", r.ID).Update("expires_at", time.Now().Add(-time.Second)).Error; err != nil {
		t.Fatal(err)
	}
	if p := anon.get(link); p.Status != http.StatusNotFound {
		t.Errorf("an expired link: %d, want 404", p.Status)
	}
	downloads := app.auditEvents("request.export_download")
	if len(downloads) != 1 || downloads[0].ObjectID != r.ID || !strings.Contains(downloads[0].Details, r.Reference) || downloads[0].IP == "" {
		t.Errorf("download audit: %+v", downloads)
	}
	if len(app.auditEvents("request.export")) != 2 { // the export and its download
		t.Errorf("export audit: %v", app.auditActions())
	}
}

func TestEraseNeedsTheRightStatusAndRole(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	auditor := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	jane := app.contact(t, acme, "Jane Doe", "+14155550123")
	waiting := app.verifiedRequest(t, calendar.TypeErasure, "+14155550123")

	c := app.client()
	c.login(officer)
	c.get("/requests/" + waiting.ID)
	if p := c.post("/requests/"+waiting.ID+"/erase", url.Values{"confirm": {"yes"}}); p.Status != http.StatusConflict ||
		!strings.Contains(p.Body, "in progress") {
		t.Errorf("erasing a request not yet in progress: %d", p.Status)
	}
	r := app.instructedRequest(t, calendar.TypeErasure, "+14155550123")
	ac := app.client()
	ac.login(auditor)
	view := ac.get("/requests/" + r.ID)
	if view.Doc.Find(`[data-testid=fulfilment]`).Length() != 1 || view.Doc.Find(`[data-testid=erase-form]`).Length() != 0 {
		t.Error("an auditor sees no fulfilment section, or an erase button")
	}
	if p := ac.post("/requests/"+r.ID+"/erase", url.Values{"confirm": {"yes"}}); p.Status != http.StatusForbidden {
		t.Errorf("an auditor erased: %d, want 403", p.Status)
	}
	if _, err := app.db.Contact(context.Background(), modeltest.Staff, jane.ID); err != nil {
		t.Fatalf("refused erasures removed the contact: %v", err)
	}

	page := c.get("/requests/" + r.ID)
	if page.Doc.Find(`[data-testid=erase-form]`).Length() != 1 {
		t.Fatalf("no erase form on an erasure in progress:\n%s", page.text(`[data-testid=fulfilment]`))
	}
	if p := c.post("/requests/"+r.ID+"/erase", url.Values{"confirm": {"yes"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("erase: %d %s", p.Status, p.text(`.error`))
	}
	after := c.get("/requests/" + r.ID)
	if !strings.Contains(after.Body, "Erased: 1 contact(s)") || !strings.Contains(after.text(`[data-testid=fulfilment]`), "No data on this person is left") {
		t.Errorf("after erasure:\n%s", after.text(`[data-testid=fulfilment]`))
	}
	if _, err := app.db.Contact(context.Background(), modeltest.Staff, jane.ID); err == nil {
		t.Error("the contact survived its erasure")
	}
	erase := app.auditEvents("request.erase")
	if len(erase) != 1 || strings.Contains(erase[0].Details, "+14155550123") || !strings.Contains(erase[0].Details, `"contacts":1`) {
		t.Errorf("erase audit: %+v", erase)
	}
}

func TestHoldsAndRectificationFromTheCasePage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	jane := app.contact(t, acme, "Jane Doe", "+14155550123")
	r := app.instructedRequest(t, calendar.TypeRectification, "+14155550123")

	c := app.client()
	c.login(officer)
	c.get("/requests/" + r.ID)
	if p := c.post("/requests/"+r.ID+"/holds", url.Values{"reason": {""}}); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("a hold without a reason: %d", p.Status)
	}
	if p := c.post("/requests/"+r.ID+"/holds", url.Values{"reason": {"litigation hold, case 14"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("hold: %d", p.Status)
	}
	page := c.get("/requests/" + r.ID)
	release, ok := page.Doc.Find(`[data-testid=release-hold]`).Closest("form").Attr("action")
	if !ok || !strings.Contains(page.text(`[data-testid=held]`), "litigation hold, case 14") {
		t.Fatalf("the held contact is not shown as held:\n%s", page.text(`[data-testid=fulfilment]`))
	}
	if p := c.post(release, nil); p.Status != http.StatusSeeOther {
		t.Fatalf("release: %d", p.Status)
	}
	if p := c.post(release, nil); p.Status != http.StatusConflict {
		t.Errorf("releasing twice: %d", p.Status)
	}
	c.get("/requests/" + r.ID)
	form := url.Values{"contact_id": {jane.ID}, "name": {"Jane Roe"}, "crm_id": {""}, "identifiers": {"+14155550123\njane.roe@example.com"}}
	if p := c.post("/requests/"+r.ID+"/rectify", form); p.Status != http.StatusSeeOther {
		t.Fatalf("rectify: %d %s", p.Status, p.text(`.error`))
	}
	got, err := app.db.Contact(context.Background(), modeltest.Staff, jane.ID)
	if err != nil || got.Name != "Jane Roe" || len(got.Identifiers) != 2 {
		t.Errorf("rectified contact: %+v %v", got, err)
	}
	rect := app.auditEvents("request.rectify")
	if len(rect) != 1 || !strings.Contains(rect[0].Details, `"before":"Jane Doe"`) || !strings.Contains(rect[0].Details, `"after":"Jane Roe"`) {
		t.Errorf("rectify audit: %+v", rect)
	}
	acts := strings.Join(app.auditActions(), " ")
	for _, want := range []string{"legal_hold.place", "legal_hold.release", "contact.update", "request.rectify"} {
		if !strings.Contains(acts, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
}
