package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	registers "github.com/sendara/console/models/registers"

	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

func TestAnOfficerRecordsADemandAndTheTransparencyReportCountsIt(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	officer := app.client()
	officer.login(app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test"))
	today := calendar.TodayIn(calendar.DefaultBusiness().Loc)
	officer.get("/legal-disclosures")
	form := url.Values{"received_on": {today.String()}, "authority": {"FBI field office"}, "kind": {"warrant"},
		"customer_id": {acme.ID}, "disclosed": {"consent history of one number"}, "disclosed_on": {today.String()}}
	p := officer.post("/legal-disclosures", form)
	if p.Status != http.StatusUnprocessableEntity || p.text("#err-not_told_reason") == "" {
		t.Fatalf("not told without a reason: %d %q", p.Status, p.text("#err-not_told_reason"))
	}
	form.Set("not_told_reason", "non-disclosure order, 18 U.S.C. 2705(b)")
	if p := officer.post("/legal-disclosures", form); p.Status != http.StatusSeeOther {
		t.Fatalf("record: %d %s", p.Status, p.Body)
	}
	page := officer.get("/legal-disclosures")
	if got := page.text(`[data-testid="transparency"] tr[data-year="` + form.Get("received_on")[:4] + `"]`); !strings.Contains(got, "1") {
		t.Errorf("transparency row %q", got)
	}
	recs, err := csv.NewReader(strings.NewReader(officer.get("/legal-disclosures/transparency.csv").Body)).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][1] != "1" || recs[1][len(recs[1])-1] != "1" {
		t.Errorf("CSV %q %v", recs, err)
	}
	admin := app.client()
	admin.login(app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test"))
	if p := admin.get("/legal-disclosures"); p.Status != http.StatusForbidden {
		t.Errorf("a customer admin: %d, want 403", p.Status)
	}
	auditor := app.client()
	auditor.login(app.user(accounts.RoleAuditor, nil, "auditor@sendara.test"))
	auditor.get("/legal-disclosures")
	if p := auditor.post("/legal-disclosures", form); p.Status != http.StatusForbidden {
		t.Errorf("an auditor recording: %d, want 403", p.Status)
	}
}

func TestAnOfficerAnswersAnOptOutOfSaleFromTheRequestPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	officer := app.client()
	officer.login(app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test"))
	r, err := app.db.CreateRequest(t.Context(), modeltest.Staff, calendar.DefaultBusiness(), requests.RequestInput{Type: calendar.TypeOptOutSale,
		Regime: "ccpa", Channel: "api", Requester: requests.Requester{Email: "jane@example.com"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	page := officer.get("/requests/" + r.ID)
	if page.Doc.Find(`[data-testid="no-sale-answer"]`).Length() != 1 {
		t.Fatal("no answer button on an opt-out of sale")
	}
	if p := officer.post("/requests/"+r.ID+"/no-sale-answer", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("answer: %d %s", p.Status, p.Body)
	}
	var subjects []string
	app.db.Gorm.Table("outbox").Where("to_addr = ?", "jane@example.com").Pluck("subject", &subjects)
	found := false
	for _, s := range subjects {
		found = found || strings.Contains(s, "Sendara does not sell personal information")
	}
	if !found {
		t.Errorf("mails to the requester: %q", subjects)
	}
	if p := officer.post("/requests/"+r.ID+"/no-sale-answer", nil); p.Status != http.StatusSeeOther {
		t.Errorf("a second answer: %d, want a redirect with the reason", p.Status)
	}
	if n := len(app.auditEvents("request.no_sale_answer")); n != 1 {
		t.Errorf("%d answers audited, want 1", n)
	}
}

func TestStaffDownloadAnAccountBundleWithoutSecrets(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	holder := app.user(accounts.RoleCustomerAdmin, acme, "owner@acme.test")
	signedIn := app.client()
	signedIn.login(holder)
	app.apiKey(t, acme)
	officer := app.client()
	officer.login(app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test"))
	officer.get("/account-bundles")
	p := officer.post("/account-bundles", url.Values{"customer_id": {acme.ID}})
	if p.Status != http.StatusOK || !strings.Contains(p.Header.Get("Content-Disposition"), "account-acme.json") {
		t.Fatalf("bundle: %d %s", p.Status, p.Header.Get("Content-Disposition"))
	}
	var b registers.AccountBundle
	if err := json.Unmarshal([]byte(p.Body), &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Users) != 1 || b.Users[0].Email != "owner@acme.test" || len(b.SignIns) == 0 || b.SignIns[0].Outcome != "signed in" || len(b.APIKeys) != 1 {
		t.Errorf("bundle: %d users, %d sign-ins, %d keys", len(b.Users), len(b.SignIns), len(b.APIKeys))
	}
	for _, secret := range []string{"argon2", "password_hash", "totp_secret", "secret_hash"} {
		if strings.Contains(strings.ToLower(p.Body), secret) {
			t.Errorf("the bundle holds %s", secret)
		}
	}
	if n := len(app.auditEvents("customer.account_bundle")); n != 1 {
		t.Errorf("%d bundles audited, want 1", n)
	}
	if p := signedIn.post("/account-bundles", url.Values{"customer_id": {acme.ID}}); p.Status != http.StatusForbidden {
		t.Errorf("a customer admin: %d, want 403", p.Status)
	}
}
