package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	accounts "github.com/sendara/console/models/accounts"
	imports "github.com/sendara/console/models/imports"
)

// TestCustomerAdminImportsOptInsWithTheirEvidence: the upload form's
// opt-in kind previews the evidence columns and lists a row without
// evidence by line and column; the import applies only the row with its
// evidence, and the check then says opted in for it and no record for the
// other.
func TestCustomerAdminImportsOptInsWithTheirEvidence(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	c, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	file := "Phone,Evidence Kind,Evidence Reference,Captured By,Captured At\r\n" +
		"4155550140,web form,form-9/sub-1,signup page,2026-11-30 10:00\r\n" +
		"4155550141,paper form,,Front desk,2026-11-30 11:00\r\n"
	p := c.uploadCSV(url.Values{"kind": {imports.ImportOptIns}}, "consents.csv", file, false)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/imports/") {
		t.Fatalf("upload: status %d to %q\n%s", p.Status, p.Location(), p.Body)
	}
	jobPath := p.Location()
	preview := c.get(jobPath)
	bad := preview.text(`[data-testid=bad-rows] tbody`)
	if !strings.Contains(bad, "3") || !strings.Contains(bad, "Evidence Reference") || !strings.Contains(bad, "evidence reference") {
		t.Errorf("bad rows = %q, want line 3's empty Evidence Reference", bad)
	}
	if got := preview.text(`[data-testid=mapping]`); !strings.Contains(got, "Captured by") {
		t.Errorf("the mapping does not offer the evidence fields: %q", got)
	}
	if p := c.post(jobPath+"/start", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("start: %d %s", p.Status, p.text("main"))
	}
	app.runImports()
	done := c.get(jobPath)
	if done.text(`[data-testid=import-status]`) != "done" || done.text(`[data-testid=report-applied]`) != "1" {
		t.Fatalf("report: status %q applied %q", done.text(`[data-testid=import-status]`), done.text(`[data-testid=report-applied]`))
	}
	api := app.apiKey(t, acme)
	for to, want := range map[string]string{"+14155550140": "opted_in", "+14155550141": "none"} {
		if a := api.get(check(to)); a.Body["consent"] != want || a.Body["suppressed"] != false {
			t.Errorf("%s: %s, want consent %s", to, a.Raw, want)
		}
	}
}
