package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	consent "github.com/sendara/console/models/consent"

	"bytes"
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/sendara/console/jobs"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// uploadCSV posts the import form with a file. With viaHeader the CSRF
// token travels as htmx sends it, in a header, and the server streams the
// file part; otherwise as the form's _csrf field.
func (c *client) uploadCSV(fields url.Values, filename, content string, viaHeader bool) *page {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if !viaHeader {
		_ = w.WriteField("_csrf", c.csrf)
	}
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	if filename != "" {
		fw, _ := w.CreateFormFile("file", filename)
		_, _ = io.WriteString(fw, content)
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.app.srv.URL+"/imports", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if viaHeader {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	return c.do(req)
}

// runImports runs the queued import jobs to the end, as serve's runner does.
func (a *testApp) runImports() {
	a.t.Helper()
	r := jobs.NewRunner(a.db, jobs.Options{Region: "US", Location: time.UTC, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), BatchSize: 3})
	for {
		found, err := r.RunOnce(context.Background())
		if err != nil {
			a.t.Fatalf("import runner: %v", err)
		}
		if !found {
			return
		}
	}
}

const hubspotExport = "Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number\r\n" +
	"101,Ann,Lee,ann@example.com,+1 415 555 0100,\r\n" +
	"102,Bob,Ray,bob@example,,\r\n" +
	"103,Cy,Ng,,(415) 555-0102,415.555.0102\r\n" +
	"104,Dee,Ox,,,\r\n" +
	"105,Eve,Ma,eve@example.com,,\r\n"

func TestCustomerAdminUploadsPreviewsAndImportsOptOuts(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	c, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")

	if p := c.get("/imports"); p.Status != http.StatusOK || p.Doc.Find(`[data-testid=import-form] input[type=file][name=file]`).Length() != 1 {
		t.Fatalf("GET /imports: status %d, upload form missing", p.Status)
	}
	p := c.uploadCSV(url.Values{"kind": {"opt_outs"}}, "hubspot.csv", hubspotExport, false)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/imports/") {
		t.Fatalf("upload: status %d to %q\n%s", p.Status, p.Location(), p.Body)
	}
	jobPath := p.Location()

	preview := c.get(jobPath)
	if preview.Status != http.StatusOK || preview.text("main h1") != "Check the import" {
		t.Fatalf("preview: status %d, heading %q", preview.Status, preview.text("main h1"))
	}
	if got := preview.text(`[data-testid=preview-summary]`); !strings.Contains(got, "5 rows: 3 will be imported") || !strings.Contains(got, "2 bad rows") {
		t.Errorf("summary = %q", got)
	}
	type badRow struct{ line, column, value, reason string }
	var bad []badRow
	preview.Doc.Find(`[data-testid=bad-rows] tbody tr`).Each(func(_ int, tr *goquery.Selection) {
		td := tr.Find("td")
		bad = append(bad, badRow{strings.TrimSpace(td.Eq(0).Text()), strings.TrimSpace(td.Eq(1).Text()),
			strings.TrimSpace(td.Eq(2).Text()), strings.TrimSpace(td.Eq(3).Text())})
	})
	if len(bad) != 2 || bad[0].line != "3" || bad[0].column != "Email" || bad[0].value != "bob@example" ||
		!strings.Contains(bad[0].reason, "is not a valid email address") ||
		bad[1].line != "5" || !strings.Contains(bad[1].reason, "has no phone number or email address") {
		t.Errorf("bad rows = %+v", bad)
	}
	mapping := map[string]string{}
	preview.Doc.Find(`[data-testid=mapping] tbody tr`).Each(func(_ int, tr *goquery.Selection) {
		mapping[strings.TrimSpace(tr.Find("code").Text())] = strings.TrimSpace(tr.Find("option[selected]").Text())
	})
	want := map[string]string{"Record ID": "CRM id", "First Name": "First name", "Last Name": "Last name",
		"Email": "Email address", "Phone Number": "Phone number", "Mobile Phone Number": "Phone number"}
	for col, field := range want {
		if mapping[col] != field {
			t.Errorf("column %q mapped to %q, want %q", col, mapping[col], field)
		}
	}
	if n := app.countRows("contacts"); n != 0 {
		t.Fatalf("%d contacts exist before the import was confirmed", n)
	}

	if p := c.post(jobPath+"/start", nil); p.Status != http.StatusSeeOther || p.Location() != jobPath {
		t.Fatalf("start: status %d to %q", p.Status, p.Location())
	}
	queued := c.get(jobPath + "/progress")
	if v, _ := queued.Doc.Find(`#import-progress`).Attr("hx-trigger"); v != "every 1s" {
		t.Errorf("a queued job's progress does not poll: hx-trigger=%q", v)
	}
	app.runImports()

	done := c.get(jobPath)
	report := map[string]string{}
	for _, id := range []string{"import-status", "report-applied", "report-unchanged", "report-bad", "report-created", "import-processed"} {
		report[id] = done.text(`[data-testid=` + id + `]`)
	}
	wantReport := map[string]string{"import-status": "done", "report-applied": "3", "report-unchanged": "0", "report-bad": "2",
		"report-created": "3", "import-processed": "5"}
	for k, v := range wantReport {
		if report[k] != v {
			t.Errorf("report %s = %q, want %q", k, report[k], v)
		}
	}
	if _, polls := done.Doc.Find(`#import-progress`).Attr("hx-trigger"); polls {
		t.Error("a finished job's progress still polls")
	}
	for _, to := range []string{"+14155550100", "ann@example.com", "+14155550102", "eve@example.com"} {
		if s, err := app.db.CheckSuppression(context.Background(), acme.ID, store.Identifier{Value: to}, ""); err != nil || !s.Suppressed {
			t.Errorf("%s after the import: %+v (%v), want suppressed", to, s, err)
		}
	}
	list := c.get("/imports")
	if row := list.Doc.Find(`[data-testid=import-row]`); row.Length() != 1 || row.AttrOr("data-status", "") != "done" || !strings.Contains(row.Text(), "hubspot.csv") {
		t.Errorf("imports list: %d rows, %q", row.Length(), row.Text())
	}
	actions := strings.Join(app.auditActions(), " ")
	for _, a := range []string{"import.create", "import.start", "import.batch", "import.complete"} {
		if !strings.Contains(actions, a) {
			t.Errorf("audit log lacks %s: %s", a, actions)
		}
	}
	created := app.auditEvents("import.create")
	if len(created) != 1 {
		t.Fatalf("%d import.create events", len(created))
	}
	if d := details(t, created[0]); d["file_name"] != "hubspot.csv" || d["rows"] != float64(5) || d["bad_rows"] != float64(2) {
		t.Errorf("import.create details = %v", d)
	}
}

func (a *testApp) countRows(table string) int64 {
	a.t.Helper()
	var n int64
	if err := a.db.Gorm.Table(table).Count(&n).Error; err != nil {
		a.t.Fatal(err)
	}
	return n
}

func TestTheSameFileImportedTwiceAppliesNothingTheSecondTime(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	c, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	importFile := func() string {
		c.get("/imports")
		p := c.uploadCSV(nil, "list.csv", hubspotExport, true)
		if p.Status != http.StatusSeeOther {
			t.Fatalf("upload: status %d\n%s", p.Status, p.Body)
		}
		c.get(p.Location())
		c.post(p.Location()+"/start", nil)
		app.runImports()
		return p.Location()
	}
	first := c.get(importFile())
	if got := first.text(`[data-testid=report-applied]`); got != "3" {
		t.Fatalf("first import applied %s, want 3", got)
	}
	c.get("/imports")
	p := c.uploadCSV(nil, "list.csv", hubspotExport, true)
	if notice := c.get(p.Location()).text(`[data-testid=earlier-import]`); !strings.Contains(notice, "already imported") {
		t.Errorf("the preview of a file imported before says %q", notice)
	}
	c.post(p.Location()+"/start", nil)
	app.runImports()
	second := c.get(p.Location())
	if a, u := second.text(`[data-testid=report-applied]`), second.text(`[data-testid=report-unchanged]`); a != "0" || u != "3" {
		t.Errorf("second import: applied %s unchanged %s, want 0 and 3", a, u)
	}
}

func TestUploadsThatCannotBeImportedAreExplainedAndLeaveNothing(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	admin, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	staff, _ := app.signedIn(accounts.RoleStaffAdmin, nil, "staff@sendara.test")
	cases := []struct {
		name     string
		c        *client
		fields   url.Values
		file     string
		content  string
		field    string
		contains string
	}{
		{"no file", admin, nil, "", "", "file", "choose a CSV file"},
		{"an empty file", admin, nil, "empty.csv", "", "file", "is empty"},
		{"a header without rows", admin, nil, "header.csv", "Email,Phone\n", "file", "no data rows"},
		{"an Excel workbook", admin, nil, "list.xlsx", "PK\x03\x04binary", "file", "Excel workbook"},
		{"a bad kind", admin, url.Values{"kind": {"everything"}}, "a.csv", "Email\na@b.co\n", "kind", "must be opt_outs, opt_ins or contacts"},
		{"a bad channel", admin, url.Values{"channel": {"sms"}}, "a.csv", "Email\na@b.co\n", "channel", "must be imessage"},
		{"staff without a customer", staff, nil, "a.csv", "Email\na@b.co\n", "customer", "choose the customer"},
	}
	for _, tc := range cases {
		for _, viaHeader := range []bool{false, true} {
			tc.c.get("/imports")
			p := tc.c.uploadCSV(tc.fields, tc.file, tc.content, viaHeader)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.text("#err-"+tc.field), tc.contains) {
				t.Errorf("%s (token in header: %v): status %d, error beside %s: %q", tc.name, viaHeader, p.Status, tc.field, p.text("#err-"+tc.field))
			}
		}
	}
	for _, table := range []string{"import_jobs", "import_chunks", "import_bad_rows"} {
		if n := app.countRows(table); n != 0 {
			t.Errorf("%d rows left in %s", n, table)
		}
	}
}

func TestStaffImportForTheCustomerTheyChoose(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, bolt := app.customer("acme"), app.customer("bolt")
	staff, _ := app.signedIn(accounts.RoleStaffAdmin, nil, "staff@sendara.test")
	list := staff.get("/imports")
	if list.Doc.Find(`select[name=customer] option[value="`+bolt.ID+`"]`).Length() != 1 {
		t.Fatal("staff see no customer select")
	}
	p := staff.uploadCSV(url.Values{"customer": {bolt.ID}, "kind": {"contacts"}}, "bolt.csv", "Email,Name\nzed@example.com,Zed\n", false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", p.Status, p.Body)
	}
	staff.get(p.Location())
	staff.post(p.Location()+"/start", nil)
	app.runImports()
	if found, err := app.db.ContactsByIdentifier(context.Background(), modeltest.Staff, bolt.ID, "zed@example.com", "US"); err != nil || len(found) != 1 || found[0].Name != "Zed" {
		t.Errorf("bolt's contact: %+v %v", found, err)
	}
	if found, _ := app.db.ContactsByIdentifier(context.Background(), modeltest.Staff, acme.ID, "zed@example.com", "US"); len(found) != 0 {
		t.Error("the contact landed in acme")
	}
	if row := staff.get("/imports").Doc.Find(`[data-testid=import-row]`).Text(); !strings.Contains(row, "Bolt Inc") {
		t.Errorf("the staff list does not name the customer: %q", row)
	}
}

func TestAnotherTenantsImportAnswersNotFound(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	f := newTenantFixture(app)
	a := app.client()
	a.login(f.AdminA)
	a.get("/imports")
	p := a.uploadCSV(nil, "a.csv", "Email\nsecret-a@example.com\nbad\n", false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d", p.Status)
	}
	jobPath := p.Location()

	bAdmin, _ := app.signedIn(accounts.RoleCustomerAdmin, f.B, "admin@bolt.test")
	for _, path := range []string{jobPath, jobPath + "/progress", jobPath + "/row", jobPath + "/bad-rows.csv"} {
		if p := bAdmin.get(path); p.Status != http.StatusNotFound {
			t.Errorf("GET %s as B: status %d, want 404", path, p.Status)
		}
	}
	for _, path := range []string{jobPath + "/start", jobPath + "/discard", jobPath + "/retry", jobPath + "/mapping"} {
		bAdmin.get("/imports")
		if p := bAdmin.post(path, url.Values{"field_0": {"email"}}); p.Status != http.StatusNotFound {
			t.Errorf("POST %s as B: status %d, want 404", path, p.Status)
		}
	}
	if body := bAdmin.get("/imports").Body; strings.Contains(body, "a.csv") {
		t.Error("B's import list shows A's file")
	}
	if p := a.get(jobPath); p.Status != http.StatusOK || p.Doc.Find(`[data-testid=start-import]`).Length() != 1 {
		t.Errorf("A's preview after B's attempts: status %d", p.Status)
	}
}

func TestCustomerAgentMayNotImportOrExport(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	agent, _ := app.signedIn(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	for _, path := range []string{"/imports", "/exports/suppressions.csv", "/exports/contacts.csv"} {
		if p := agent.get(path); p.Status != http.StatusForbidden {
			t.Errorf("GET %s as an agent: status %d, want 403", path, p.Status)
		}
	}
	agent.get("/")
	if p := agent.uploadCSV(nil, "a.csv", "Email\na@b.co\n", false); p.Status != http.StatusForbidden {
		t.Errorf("upload as an agent: status %d, want 403", p.Status)
	}
}

func TestAFileWithoutARecognisedColumnIsMappedByHandOnThePreview(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	c, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	c.get("/imports")
	p := c.uploadCSV(nil, "odd.csv", "Number,Who\n4155550100,Ann\n4155550101,Bob\n", false)
	jobPath := p.Location()
	preview := c.get(jobPath)
	if !strings.Contains(preview.text(`[data-testid=mapping-problem]`), "No column of phone numbers") || preview.Doc.Find(`[data-testid=start-import]`).Length() != 0 {
		t.Fatalf("preview without an identifier column: problem %q, start button %d", preview.text(`[data-testid=mapping-problem]`), preview.Doc.Find(`[data-testid=start-import]`).Length())
	}
	if p := c.post(jobPath+"/start", nil); p.Status != http.StatusConflict {
		t.Errorf("starting it anyway: status %d, want 409", p.Status)
	}
	c.get(jobPath)
	if p := c.post(jobPath+"/mapping", url.Values{"field_0": {"email"}, "field_1": {"name"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("remap: %d", p.Status)
	}
	c.get(jobPath)
	if p := c.post(jobPath+"/mapping", url.Values{"field_0": {"phone"}, "field_1": {"phone"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("remap to two phone columns: %d", p.Status)
	}
	c.get(jobPath)
	p = c.post(jobPath+"/mapping", url.Values{"field_0": {"phone"}, "field_1": {"crm_id"}, "channel": {"imessage"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("remap: %d", p.Status)
	}
	c.get(jobPath)
	if p := c.post(jobPath+"/mapping", url.Values{"field_0": {"name"}, "field_1": {"name"}}); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.text("#err-field_1"), "Name is already column") {
		t.Errorf("two name columns: status %d, error %q", p.Status, p.text("#err-field_1"))
	}
	preview = c.get(jobPath)
	if preview.text(`[data-testid=mapping-problem]`) != "" || !strings.Contains(preview.text(`[data-testid=preview-summary]`), "2 will be imported") {
		t.Errorf("after mapping Number as phone: problem %q, summary %q", preview.text(`[data-testid=mapping-problem]`), preview.text(`[data-testid=preview-summary]`))
	}
	c.post(jobPath+"/start", nil)
	app.runImports()
	s, err := app.db.CheckSuppression(context.Background(), acme.ID, store.Identifier{Value: "+14155550100"}, consent.ChannelFaceTime)
	if err != nil || s.Suppressed {
		t.Errorf("an iMessage-only import suppressed FaceTime: %+v %v", s, err)
	}
	if s, _ := app.db.CheckSuppression(context.Background(), acme.ID, store.Identifier{Value: "+14155550100"}, consent.ChannelIMessage); !s.Suppressed {
		t.Error("the iMessage-only import did not suppress iMessage")
	}
	if n := len(app.auditEvents("import.remap")); n != 3 {
		t.Errorf("%d import.remap events, want 3", n)
	}
}

func TestDiscardingAPreviewImportsNothing(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	c, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	c.get("/imports")
	jobPath := c.uploadCSV(nil, "a.csv", hubspotExport, false).Location()
	c.get(jobPath)
	if p := c.post(jobPath+"/discard", nil); p.Status != http.StatusSeeOther || p.Location() != "/imports" {
		t.Fatalf("discard: %d to %q", p.Status, p.Location())
	}
	app.runImports()
	if n := app.countRows("contacts") + app.countRows("import_chunks") + app.countRows("import_bad_rows"); n != 0 {
		t.Errorf("%d rows of contacts, chunks or bad rows after a discard", n)
	}
	if got := c.get(jobPath).text(`[data-testid=import-status]`); got != "cancelled" {
		t.Errorf("the discarded job's status reads %q", got)
	}
	c.get(jobPath)
	if p := c.post(jobPath+"/start", nil); p.Status != http.StatusConflict {
		t.Errorf("starting a discarded import: status %d, want 409", p.Status)
	}
}

func TestBadRowsDownloadAsCSV(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	c, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	c.get("/imports")
	jobPath := c.uploadCSV(nil, "a.csv", hubspotExport, false).Location()
	p := c.get(jobPath + "/bad-rows.csv")
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("status %d, type %q", p.Status, p.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(p.Body)).ReadAll()
	if err != nil || len(recs) != 3 || strings.Join(recs[0], ",") != "line,column,value,reason" || recs[1][0] != "3" || recs[2][0] != "5" {
		t.Errorf("bad rows CSV: %q %v", recs, err)
	}
}

func TestExportsStreamOneCustomersListAsCSVAndAreAudited(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	f := newTenantFixture(app)
	ctx := context.Background()
	app.contact(t, f.A, "Ann", "+14155550100", "ann@example.com")
	app.contact(t, f.A, "Bob", "bob@example.com")
	app.contact(t, f.B, "Zed", "zed@example.com")
	if _, err := app.db.RecordConsent(ctx, modeltest.Staff, f.A.ID, consent.ConsentInput{To: "ann@example.com", Kind: consent.OptOut}, "US"); err != nil {
		t.Fatal(err)
	}
	c := app.client()
	c.login(f.AdminA)

	p := c.get("/exports/suppressions.csv")
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(p.Header.Get("Content-Disposition"), "suppressions-acme-") {
		t.Fatalf("status %d type %q disposition %q", p.Status, p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"))
	}
	recs, err := csv.NewReader(strings.NewReader(p.Body)).ReadAll()
	if err != nil || len(recs) != 5 || strings.Join(recs[0], ",") != "identifier,kind,channel,console_contact_id,name,crm_id,suppressed,consent,reason,opted_out_at" {
		t.Fatalf("suppression list: %q %v", recs, err)
	}
	for _, r := range recs[1:] {
		if r[4] != "Ann" || r[6] != "true" || r[7] != "opted_out" || r[8] != "opt_out" || r[9] == "" {
			t.Errorf("suppressed row %q", r)
		}
		if r[1] == store.KindPhone && r[0] != "tel:+14155550100" {
			t.Errorf("a phone number is written %q, not as a tel: URI a spreadsheet keeps as text", r[0])
		}
	}
	all := c.get("/exports/contacts.csv").Body
	if n := strings.Count(all, "\n"); n != 7 || !strings.Contains(all, "bob@example.com,email,imessage,") || strings.Contains(all, "zed@") {
		t.Errorf("contacts export (%d lines):\n%s", n, all)
	}
	if !strings.Contains(all, ",no_record,") || strings.Contains(all, ",yes") {
		t.Errorf("contacts export does not say no record for Bob:\n%s", all)
	}
	events := app.auditEvents("contact.export")
	if len(events) != 2 {
		t.Fatalf("%d contact.export events, want 2", len(events))
	}
	if d := details(t, events[1]); d["filter"] != "suppressions" || d["rows"] != float64(4) || events[1].CustomerID != f.A.ID {
		t.Errorf("first export's audit entry: %v (tenant %s)", d, events[1].CustomerID)
	}
	if p := c.get("/exports/contacts.csv?customer=" + f.B.ID); p.Status != http.StatusNotFound {
		t.Errorf("exporting tenant B as A: status %d, want 404", p.Status)
	}

	officer, _ := app.signedIn(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	chooser := officer.get("/exports/suppressions.csv")
	if chooser.Status != http.StatusOK || chooser.Doc.Find(`[data-testid=export-customers] a[href="/exports/suppressions.csv?customer=`+f.B.ID+`"]`).Length() != 1 {
		t.Errorf("staff without a customer: status %d, no customer choice\n%s", chooser.Status, chooser.Body)
	}
	if b := officer.get("/exports/contacts.csv?customer=" + f.B.ID).Body; !strings.Contains(b, "zed@example.com") || strings.Contains(b, "ann@") {
		t.Errorf("staff export of B:\n%s", b)
	}
}
