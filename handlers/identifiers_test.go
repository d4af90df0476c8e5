package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	accounts "github.com/sendara/console/models/accounts"
	consent "github.com/sendara/console/models/consent"
)

// The spellings of one address (DESIGN §5): composed, decomposed, IDNA
// ASCII, capitals, full-width letters.
var jorgSpellings = []string{
	"jörg@bücher.example",
	"jo\u0308rg@bu\u0308cher.example",
	"jörg@xn--bcher-kva.example",
	"JÖRG@BÜCHER.EXAMPLE",
	"ｊöｒｇ＠ｂüｃｈｅｒ．ｅｘａｍｐｌｅ",
}

const jorg = "jörg@xn--bcher-kva.example"

func TestEverySpellingOfAnEmailIsOnePersonThroughTheAPI(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	created := api.post("/api/v1/contacts", map[string]any{"identifiers": []string{"jo\u0308rg@bu\u0308cher.example"}, "name": "Jörg"})
	ids, _ := created.Body["identifiers"].([]any)
	if created.Status != 201 || len(ids) != 1 || ids[0] != jorg {
		t.Fatalf("create contact: %d %s, want 201 with identifiers [%s]", created.Status, created.Raw, jorg)
	}
	if a := api.post("/api/v1/opt-outs", map[string]any{"to": "JÖRG@BÜCHER.EXAMPLE", "evidence": "asked by mail"}); a.Status != 201 || a.Body["to"] != jorg {
		t.Fatalf("opt-out: %d %s", a.Status, a.Raw)
	}
	for _, spelling := range jorgSpellings {
		a := api.get(check(spelling))
		if a.Status != 200 || a.Body["to"] != jorg || a.Body["suppressed"] != true {
			t.Errorf("check %+q: %d %s, want %s suppressed", spelling, a.Status, a.Raw, jorg)
		}
	}
	found := api.get("/api/v1/contacts?to=" + url.QueryEscape("ｊöｒｇ＠ｂüｃｈｅｒ．ｅｘａｍｐｌｅ"))
	if list, _ := found.Body["contacts"].([]any); found.Status != 200 || len(list) != 1 {
		t.Errorf("find by full-width spelling: %d %s, want the one contact", found.Status, found.Raw)
	}
	var n int64
	app.db.Gorm.Model(&consent.Contact{}).Count(&n)
	if n != 1 {
		t.Errorf("%d contacts, want one person", n)
	}
}

func TestInvisibleCharactersAreRefusedWithTheFieldOnEveryAPIPath(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	staff := app.apiKey(t, nil)
	for _, c := range []struct {
		name   string
		client *apiClient
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"a check with a zero-width space", api, "GET", check("ja\u200bne@example.com"), nil, 400, "to"},
		{"an opt-out with a bidi override", api, "POST", "/api/v1/opt-outs", map[string]any{"to": "jane\u202e@example.com"}, 400, "to"},
		{"an opt-in with a control character", api, "POST", "/api/v1/opt-ins", map[string]any{"to": "ja\x01ne@example.com", "evidence": "form"}, 400, "to"},
		{"a contact with a zero-width joiner", api, "POST", "/api/v1/contacts", map[string]any{"identifiers": []string{"+14155550123", "jane\u200d@example.com"}}, 400, "identifiers[1]"},
		{"a reply from a C1 control", api, "POST", "/api/v1/inbound", map[string]any{"from": "ja\u0085ne@example.com", "body": "STOP"}, 400, "from"},
		{"a request whose requester has a byte-order mark", staff, "POST", "/api/v1/requests",
			map[string]any{"type": "access", "regime": "gdpr", "customer": "acme", "requester": map[string]any{"email": "ja\ufeffne@example.com"}},
			// The requests API answers every refused field 422.
			422, "requester.email"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := c.client.call(c.method, c.path, c.body)
			if a.Status != c.status || a.Body["field"] != c.field || !strings.Contains(a.Raw, "invisible or control character") {
				t.Errorf("%d %s; want %d naming %q for an invisible or control character", a.Status, a.Raw, c.status, c.field)
			}
		})
	}
	var n int64
	app.db.Gorm.Model(&consent.Contact{}).Count(&n)
	if n != 0 {
		t.Errorf("refused requests created %d contacts", n)
	}
}

func TestAnImportRowWithAnInvisibleCharacterIsABadRow(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	c, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	p := c.uploadCSV(url.Values{"kind": {"opt_outs"}}, "list.csv", "Email\r\nann@example.com\r\nja\u200bne@example.com\r\n", false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("upload: status %d\n%s", p.Status, p.Body)
	}
	preview := c.get(p.Location())
	var reasons []string
	preview.Doc.Find(`[data-testid=bad-rows] tbody tr`).Each(func(_ int, tr *goquery.Selection) {
		reasons = append(reasons, strings.TrimSpace(tr.Find("td").Eq(0).Text())+": "+strings.TrimSpace(tr.Find("td").Eq(3).Text()))
	})
	if len(reasons) != 1 || !strings.HasPrefix(reasons[0], "3: ") || !strings.Contains(reasons[0], "invisible or control character") {
		t.Errorf("bad rows = %q, want line 3 refused for an invisible character", reasons)
	}
}
