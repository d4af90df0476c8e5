package handlers_test

import (
	consent "github.com/sendara/console/models/consent"
	customers "github.com/sendara/console/models/customers"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/handlers"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// apiClient calls the JSON API with one key.
type apiClient struct {
	t   *testing.T
	app *testApp
	key string
}

type apiAnswer struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (a *testApp) apiKey(t *testing.T, customer *customers.Customer) *apiClient {
	t.Helper()
	id := ""
	if customer != nil {
		id = customer.ID
	}
	_, secret, err := a.db.CreateAPIKey(context.Background(), modeltest.Staff, id, "test key")
	if err != nil {
		t.Fatal(err)
	}
	return &apiClient{t: t, app: a, key: secret}
}

func (c *apiClient) call(method, path string, body any) apiAnswer {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.app.srv.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	ans := apiAnswer{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &ans.Body)
	return ans
}

func (c *apiClient) get(path string) apiAnswer         { return c.call(http.MethodGet, path, nil) }
func (c *apiClient) post(path string, b any) apiAnswer { return c.call(http.MethodPost, path, b) }

func check(to string) string { return "/api/v1/suppressions/check?to=" + url.QueryEscape(to) }

func (c *apiClient) suppressed(to string) bool {
	c.t.Helper()
	a := c.get(check(to))
	if a.Status != 200 {
		c.t.Fatalf("check %s: %d %s", to, a.Status, a.Raw)
	}
	return a.Body["suppressed"] == true
}

func TestSuppressionCheckAnswersTheContractShape(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	a := api.get(check("+1 (415) 555-0123"))
	if a.Status != 200 {
		t.Fatalf("status %d: %s", a.Status, a.Raw)
	}
	want := map[string]any{"to": "+14155550123", "suppressed": false, "reason": nil, "since": nil, "consent": "none"}
	for k, v := range want {
		if got, ok := a.Body[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if len(a.Body) != len(want) {
		t.Errorf("answer has fields %v, want exactly to, suppressed, reason, since, consent", a.Body)
	}
}

// TestTheCheckNeverAnswersNoOptOutAsConsent: consent is "opted_in" only
// while an opt-in with evidence stands on the asked channel.
func TestTheCheckNeverAnswersNoOptOutAsConsent(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	api.post("/api/v1/contacts", map[string]any{"identifiers": []string{"+14155550101"}})
	api.post("/api/v1/opt-ins", map[string]any{"to": "+14155550102", "channel": "facetime", "evidence": "web form #7"})
	api.post("/api/v1/opt-ins", map[string]any{"to": "+14155550103", "evidence": "paper form"})
	api.post("/api/v1/opt-outs", map[string]any{"to": "+14155550103", "channel": "imessage"})
	tests := []struct {
		to, channel, consent string
		suppressed           bool
	}{
		{"+14155550101", "", "none", false},
		{"+14155550102", "facetime", "opted_in", false},
		{"+14155550102", "imessage", "none", false},
		{"+14155550102", "", "none", false},
		{"+14155550103", "imessage", "none", true},
		{"+14155550103", "facetime", "opted_in", false},
		{"+14155550199", "", "none", false},
	}
	for _, tt := range tests {
		a := api.get(check(tt.to) + "&channel=" + tt.channel)
		if a.Status != 200 || a.Body["consent"] != tt.consent || a.Body["suppressed"] != tt.suppressed {
			t.Errorf("%s on %q: %s, want consent %s suppressed %v", tt.to, tt.channel, a.Raw, tt.consent, tt.suppressed)
		}
	}
}

func TestAnOptOutSuppressesThePersonOnEveryIdentifierAndSpelling(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	if a := api.post("/api/v1/contacts", map[string]any{"identifiers": []string{"415.555.0123", "Jane.Doe@Example.COM"}, "name": "Jane"}); a.Status != 201 {
		t.Fatalf("create contact: %d %s", a.Status, a.Raw)
	}
	first := api.post("/api/v1/opt-outs", map[string]any{"to": "tel:+14155550123", "evidence": "STOP by phone"})
	if first.Status != 201 || first.Body["recorded"] != true {
		t.Fatalf("first opt-out: %d %s", first.Status, first.Raw)
	}
	if again := api.post("/api/v1/opt-outs", map[string]any{"to": "+1 415 555 0123"}); again.Status != 200 || again.Body["recorded"] != false {
		t.Errorf("repeated opt-out: %d %s, want 200 and nothing recorded", again.Status, again.Raw)
	}
	for _, spelling := range []string{"+14155550123", "(415) 555-0123", "mailto:JANE.DOE@example.com", "jane.doe@example.com"} {
		a := api.get(check(spelling))
		if a.Body["suppressed"] != true || a.Body["reason"] != "opt_out" || a.Body["since"] == nil {
			t.Errorf("check %q: %s, want suppressed for opt_out since a time", spelling, a.Raw)
		}
	}
	if api.suppressed("+1 415 555 0199") {
		t.Error("another number is suppressed too")
	}
}

func TestChannelOptOutsApplyToTheirChannelOnly(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	api.post("/api/v1/opt-outs", map[string]any{"to": "+14155550123", "channel": "facetime"})
	cases := map[string]bool{"facetime": true, "imessage": false, "all": true, "": true, "FaceTime": true, "IMESSAGE": false}
	for ch, want := range cases {
		a := api.get(check("+14155550123") + "&channel=" + ch)
		if a.Body["suppressed"] != want {
			t.Errorf("channel %q: suppressed = %v, want %v", ch, a.Body["suppressed"], want)
		}
	}
	if a := api.get(check("+14155550123") + "&channel=fax"); a.Status != 400 || a.Body["field"] != "channel" {
		t.Errorf("an unknown channel: %d %s", a.Status, a.Raw)
	}
}

func TestBatchCheckKeepsOrderAndLimits(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	api.post("/api/v1/opt-outs", map[string]any{"to": "+14155550102"})
	a := api.post("/api/v1/suppressions/check", map[string]any{"to": []string{"+1 415 555 0101", "415.555.0102", "x@example.com"}})
	results, _ := a.Body["results"].([]any)
	if a.Status != 200 || len(results) != 3 {
		t.Fatalf("batch: %d %s", a.Status, a.Raw)
	}
	for i, want := range []struct {
		to         string
		suppressed bool
	}{{"+14155550101", false}, {"+14155550102", true}, {"x@example.com", false}} {
		r := results[i].(map[string]any)
		if r["to"] != want.to || r["suppressed"] != want.suppressed {
			t.Errorf("result %d = %v, want %+v", i, r, want)
		}
	}
	tooMany := make([]string, 1001)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("+1415555%04d", i)
	}
	if a := api.post("/api/v1/suppressions/check", map[string]any{"to": tooMany}); a.Status != 400 || a.Body["field"] != "to" {
		t.Errorf("1001 identifiers: %d %s", a.Status, a.Raw)
	}
	for _, body := range []any{
		map[string]any{"to": []string{}},
		map[string]any{"to": "+14155550101"},
		map[string]any{"to": []any{"+14155550101", 12}},
		"not an object",
	} {
		if a := api.post("/api/v1/suppressions/check", body); a.Status != 400 {
			t.Errorf("malformed body %v: %d %s, want 400", body, a.Status, a.Raw)
		}
	}
}

// TestBatchCheckAnswersEachItemOnItsOwn: a malformed item gets its error in
// its place; the other items still get their answers.
func TestBatchCheckAnswersEachItemOnItsOwn(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	api.post("/api/v1/opt-outs", map[string]any{"to": "+14155550102"})
	api.post("/api/v1/opt-ins", map[string]any{"to": "+14155550103", "evidence": "keyword START"})
	sent := []string{"+14155550101", "nonsense", "415.555.0102", "", "+1 415 555 0103"}
	a := api.post("/api/v1/suppressions/check", map[string]any{"to": sent})
	results, _ := a.Body["results"].([]any)
	if a.Status != 200 || len(results) != len(sent) {
		t.Fatalf("batch with bad items: %d %s, want 200 with %d results", a.Status, a.Raw, len(sent))
	}
	want := []map[string]any{
		{"to": "+14155550101", "suppressed": false, "consent": "none"},
		{"to": "nonsense", "suppressed": nil},
		{"to": "+14155550102", "suppressed": true, "reason": "opt_out", "consent": "none"},
		{"to": "", "suppressed": nil},
		{"to": "+14155550103", "suppressed": false, "consent": "opted_in"},
	}
	for i, w := range want {
		r := results[i].(map[string]any)
		for k, v := range w {
			if got, ok := r[k]; !ok || got != v {
				t.Errorf("result %d: %s = %v (present %v), want %v", i, k, got, ok, v)
			}
		}
		_, hasError := r["error"]
		if bad := w["suppressed"] == nil; hasError != bad {
			t.Errorf("result %d = %v: error present %v, want %v", i, r, hasError, bad)
		}
		if msg, _ := r["error"].(string); hasError && msg == "" {
			t.Errorf("result %d: an empty error", i)
		}
	}
}

func TestBadRequestsGetAClearErrorNamingTheField(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string
		code   string
	}{
		{"a bad identifier", "GET", check("not-a-phone"), nil, 400, "to", "invalid_identifier"},
		{"a missing identifier", "GET", "/api/v1/suppressions/check", nil, 400, "to", "invalid_identifier"},
		{"an unknown JSON field", "POST", "/api/v1/opt-outs", map[string]any{"to": "+14155550123", "chanel": "imessage"}, 400, "chanel", "malformed_request"},
		{"a wrong JSON type", "POST", "/api/v1/opt-outs", map[string]any{"to": 14155550123}, 400, "to", "invalid_identifier"},
		{"a bad time", "POST", "/api/v1/opt-outs", map[string]any{"to": "+14155550123", "occurred_at": "yesterday"}, 400, "occurred_at", "malformed_request"},
		{"an opt-in without evidence", "POST", "/api/v1/opt-ins", map[string]any{"to": "+14155550123"}, 422, "evidence", "rule_violated"},
		{"an unknown source", "POST", "/api/v1/opt-outs", map[string]any{"to": "+14155550123", "source": "psychic"}, 422, "source", "rule_violated"},
		{"a contact without identifiers", "POST", "/api/v1/contacts", map[string]any{"name": "Nobody"}, 400, "identifiers", "invalid_identifier"},
		{"a contact with a bad identifier", "POST", "/api/v1/contacts", map[string]any{"identifiers": []string{"+14155550123", "zzz"}}, 400, "identifiers[1]", "invalid_identifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := api.call(tt.method, tt.path, tt.body)
			if a.Status != tt.status || a.Body["field"] != tt.field || a.Body["error"] == "" || a.Body["error"] == nil {
				t.Errorf("%d %s; want %d naming %q", a.Status, a.Raw, tt.status, tt.field)
			}
			if a.Body["code"] != tt.code || a.Body["request_id"] == nil || a.Body["request_id"] != a.Header.Get("X-Request-Id") {
				t.Errorf("code %v request id %v (header %q); want code %s and the request's id", a.Body["code"], a.Body["request_id"], a.Header.Get("X-Request-Id"), tt.code)
			}
		})
	}
	var n int64
	app.db.Gorm.Model(&consent.ConsentEvent{}).Count(&n)
	if n != 0 {
		t.Errorf("rejected requests wrote %d ledger events", n)
	}
}

func TestAnOptInNeedsEvidenceAndNeverOverridesALaterOptOut(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	optOutAt := time.Now().Add(-time.Hour).UTC()
	api.post("/api/v1/opt-outs", map[string]any{"to": "+14155550123", "occurred_at": optOutAt.Format(time.RFC3339)})
	stale := api.post("/api/v1/opt-ins", map[string]any{"to": "+14155550123", "evidence": "web form", "occurred_at": optOutAt.Add(-time.Hour).Format(time.RFC3339)})
	if stale.Status != 409 || !api.suppressed("+14155550123") {
		t.Fatalf("an opt-in dated before the opt-out: %d %s; want 409 and still suppressed", stale.Status, stale.Raw)
	}
	fresh := api.post("/api/v1/opt-ins", map[string]any{"to": "+14155550123", "evidence": "replied START on 2026-11-29"})
	if fresh.Status != 201 || api.suppressed("+14155550123") {
		t.Fatalf("a later opt-in with evidence: %d %s; want 201 and reachable", fresh.Status, fresh.Raw)
	}
	if again := api.post("/api/v1/opt-ins", map[string]any{"to": "+14155550123", "evidence": "again"}); again.Status != 200 {
		t.Errorf("a repeated opt-in: %d, want 200", again.Status)
	}
}

func TestInboundRepliesAreClassifiedRecordedOrQueued(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, handlers.Config{Location: mustLoc(t, "America/Los_Angeles")})
	acme := app.customer("acme")
	api := app.apiKey(t, acme)
	tests := []struct {
		from, body, action string
		suppressed         bool
	}{
		{"+14155550101", "STOP", "opt_out", true},
		{"+14155550102", "please stop texting me", "opt_out", true},
		{"+14155550103", "I can't stop laughing", "review", false},
		{"+14155550104", "See you Tuesday", "none", false},
		{"+14155550105", "HELP", "help", false},
	}
	for _, tt := range tests {
		a := api.post("/api/v1/inbound", map[string]any{"from": tt.from, "body": tt.body})
		if a.Status != 200 || a.Body["action"] != tt.action || a.Body["to"] != tt.from {
			t.Errorf("%q: %d %s, want action %s", tt.body, a.Status, a.Raw, tt.action)
		}
		if got := api.suppressed(tt.from); got != tt.suppressed {
			t.Errorf("%q: suppressed = %v, want %v", tt.body, got, tt.suppressed)
		}
	}
	// START after STOP opts back in.
	if a := api.post("/api/v1/inbound", map[string]any{"from": "+14155550101", "body": "start"}); a.Body["action"] != "opt_in" || api.suppressed("+14155550101") {
		t.Errorf("START after STOP: %s", a.Raw)
	}
	queue, err := app.db.ReviewQueue(context.Background(), modeltest.Staff, acme.ID, 50)
	if err != nil || len(queue) != 1 || queue[0].Body != "I can't stop laughing" || queue[0].ReviewDueOn == nil {
		t.Fatalf("review queue = %+v, %v", queue, err)
	}
}

func mustLoc(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestContactsAreScopedToTheKeysTenant(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, other := app.customer("acme"), app.customer("other")
	acmeAPI, otherAPI, staffAPI := app.apiKey(t, acme), app.apiKey(t, other), app.apiKey(t, nil)
	created := acmeAPI.post("/api/v1/contacts", map[string]any{"identifiers": []string{"+1 415 555 0123", "A@Example.com"}, "name": "Ann", "crm_id": "hs-1"})
	if created.Status != 201 {
		t.Fatalf("create: %d %s", created.Status, created.Raw)
	}
	id := created.Body["id"].(string)
	if ids := created.Body["identifiers"].([]any); len(ids) != 2 || !slices.Contains(ids, any("+14155550123")) || !slices.Contains(ids, any("a@example.com")) {
		t.Errorf("identifiers not normalized: %v", ids)
	}
	if dup := acmeAPI.post("/api/v1/contacts", map[string]any{"identifiers": []string{"a@example.com"}}); dup.Status != 409 {
		t.Errorf("a taken identifier: %d %s, want 409", dup.Status, dup.Raw)
	}
	if a := acmeAPI.get("/api/v1/contacts/" + id); a.Status != 200 || a.Body["name"] != "Ann" {
		t.Errorf("own contact: %d %s", a.Status, a.Raw)
	}
	for _, path := range []string{"/api/v1/contacts/" + id, "/api/v1/contacts/" + id + "/consent"} {
		if a := otherAPI.get(path); a.Status != 404 {
			t.Errorf("another tenant's %s: %d %s, want 404", path, a.Status, a.Raw)
		}
	}
	if a := otherAPI.get("/api/v1/contacts?to=%2B14155550123"); a.Status != 200 || len(a.Body["contacts"].([]any)) != 0 {
		t.Errorf("another tenant's lookup by identifier: %s", a.Raw)
	}
	if a := otherAPI.get(check("+14155550123") + "&customer=acme"); a.Status != 404 {
		t.Errorf("a customer key naming another customer: %d, want 404", a.Status)
	}
	if a := acmeAPI.get("/api/v1/contacts?to=A%40example.com"); len(a.Body["contacts"].([]any)) != 1 {
		t.Errorf("lookup by identifier: %s", a.Raw)
	}
	if a := staffAPI.get(check("+14155550123")); a.Status != 400 || a.Body["field"] != "customer" {
		t.Errorf("a staff key without a customer: %d %s", a.Status, a.Raw)
	}
	if a := staffAPI.get(check("+14155550123") + "&customer=acme"); a.Status != 200 {
		t.Errorf("a staff key naming the customer: %d %s", a.Status, a.Raw)
	}
	if a := staffAPI.post("/api/v1/opt-outs", map[string]any{"to": "+14155550123", "customer": "acme"}); a.Status != 403 {
		t.Errorf("a staff key recording a customer's opt-out: %d, want 403", a.Status)
	}
}

func TestConsentAtAPointInTime(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	created := api.post("/api/v1/contacts", map[string]any{"identifiers": []string{"+14155550123"}})
	id := created.Body["id"].(string)
	api.post("/api/v1/opt-ins", map[string]any{"to": "+14155550123", "evidence": "signed form #12", "occurred_at": t0.Format(time.RFC3339)})
	api.post("/api/v1/opt-outs", map[string]any{"to": "+14155550123", "channel": "imessage", "evidence": "STOP", "occurred_at": t0.AddDate(0, 1, 0).Format(time.RFC3339)})
	tests := []struct {
		at         time.Time
		channel    string
		suppressed bool
		kind       any
	}{
		{t0.Add(-time.Hour), "", false, nil},
		{t0.Add(time.Hour), "imessage", false, "opt_in"},
		{t0.AddDate(0, 1, 1), "imessage", true, "opt_out"},
		{t0.AddDate(0, 1, 1), "facetime", false, "opt_in"},
		{t0.AddDate(0, 1, 1), "", true, "opt_out"},
	}
	for _, tt := range tests {
		path := "/api/v1/contacts/" + id + "/consent?at=" + url.QueryEscape(tt.at.Format(time.RFC3339)) + "&channel=" + tt.channel
		a := api.get(path)
		var kind any
		if ev, ok := a.Body["event"].(map[string]any); ok {
			kind = ev["kind"]
			if ev["evidence"] == "" || ev["source"] != "api" {
				t.Errorf("%s: event lacks evidence or source: %v", path, ev)
			}
		}
		if a.Status != 200 || a.Body["suppressed"] != tt.suppressed || kind != tt.kind {
			t.Errorf("at %s channel %q: %s; want suppressed %v after %v", tt.at, tt.channel, a.Raw, tt.suppressed, tt.kind)
		}
		if wantConsent := map[bool]string{true: "opted_in", false: "none"}[kind == "opt_in"]; a.Body["consent"] != wantConsent {
			t.Errorf("at %s channel %q: consent %v, want %s", tt.at, tt.channel, a.Body["consent"], wantConsent)
		}
	}
}

func TestEveryEndpointButTheChecksIsRateLimitedPerKey(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, handlers.Config{APIRate: 1})
	acme := app.customer("acme")
	api, second := app.apiKey(t, acme), app.apiKey(t, acme)
	for i := range 5 {
		if a := api.get(check("+14155550123")); a.Status != 200 {
			t.Fatalf("check %d was limited: %d", i, a.Status)
		}
	}
	if a := api.get(check("+14155550123")); a.Header.Get("RateLimit-Limit") != "" {
		t.Errorf("an unlimited check carries RateLimit-Limit %q", a.Header.Get("RateLimit-Limit"))
	}
	first := api.get("/api/v1/contacts?to=%2B14155550123")
	if first.Status != 200 {
		t.Fatalf("first call: %d", first.Status)
	}
	if h := first.Header; h.Get("RateLimit-Limit") != "1" || h.Get("RateLimit-Remaining") != "0" || h.Get("RateLimit-Reset") != "1" {
		t.Errorf("first call's RateLimit headers: limit %q remaining %q reset %q, want 1, 0, 1",
			h.Get("RateLimit-Limit"), h.Get("RateLimit-Remaining"), h.Get("RateLimit-Reset"))
	}
	a := api.get("/api/v1/contacts?to=%2B14155550123")
	if a.Status != 429 || a.Header.Get("Retry-After") == "" || a.Body["error"] == nil || a.Body["code"] != "rate_limited" ||
		a.Header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("second call within a second: %d Retry-After %q %s", a.Status, a.Header.Get("Retry-After"), a.Raw)
	}
	if b := second.get("/api/v1/contacts?to=%2B14155550123"); b.Status != 200 {
		t.Errorf("another key is limited too: %d", b.Status)
	}
}

func TestChecksAreCountedNotAuditedAndKeysShowLastUse(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	api := app.apiKey(t, acme)
	before := len(app.auditActions())
	for range 3 {
		api.get(check("+14155550123"))
	}
	api.post("/api/v1/suppressions/check", map[string]any{"to": []string{"+14155550123", "+14155550124"}})
	if after := len(app.auditActions()); after != before {
		t.Errorf("suppression checks wrote %d audit events", after-before)
	}
	srv := app.serverOf(t)
	if err := srv.FlushUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
	keys, _ := app.db.APIKeys(context.Background(), modeltest.Staff)
	n, err := app.db.Usage(context.Background(), keys[0].ID, "suppression_check", time.Now().Add(-time.Hour))
	if err != nil || n != 5 {
		t.Errorf("counted %d checks (%v), want 5", n, err)
	}
	if keys[0].LastUsedAt == nil {
		t.Error("the key's last use was not recorded")
	}
	api.get("/api/v1/contacts?to=%2B14155550123")
	if acts := app.auditActions(); acts[len(acts)-1] != "contact.search" {
		t.Errorf("a contact lookup was not audited: %v", acts[len(acts)-1])
	}
}

func TestMissingOrRevokedKeysAreRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	api := app.apiKey(t, acme)
	for _, key := range []string{"", "nope", "spc_live_" + strings.Repeat("a", 52)} {
		c := &apiClient{t: t, app: app, key: key}
		if a := c.get(check("+14155550123")); a.Status != 401 || a.Body["error"] == nil {
			t.Errorf("key %q: %d %s", key, a.Status, a.Raw)
		}
	}
	keys, _ := app.db.APIKeys(context.Background(), modeltest.Staff)
	if err := app.db.RevokeAPIKey(context.Background(), modeltest.Staff, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	if a := api.get(check("+14155550123")); a.Status != 401 {
		t.Errorf("a revoked key: %d", a.Status)
	}
}

func TestTheBearerSchemeIsCaseInsensitive(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		req, _ := http.NewRequest(http.MethodGet, app.srv.URL+check("+14155550123"), nil)
		req.Header.Set("Authorization", scheme+" "+api.key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s KEY: %d, want 200", scheme, res.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, app.srv.URL+check("+14155550123"), nil)
	req.Header.Set("Authorization", "Basic "+api.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("Basic KEY: %d, want 401", res.StatusCode)
	}
}

// TestCallersMayNotClaimTheConsolesOwnSources: an event claiming to come
// from an import, a reply or a privacy request must have come that way.
func TestCallersMayNotClaimTheConsolesOwnSources(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	tests := []struct {
		source string
		status int
	}{
		{"", 201}, {"api", 200}, {"crm", 200}, {"manual", 200},
		{"csv_import", 422}, {"inbound_reply", 422}, {"privacy_request", 422}, {"fax", 422},
	}
	for _, tt := range tests {
		a := api.post("/api/v1/opt-outs", map[string]any{"to": "+14155550123", "source": tt.source})
		if a.Status != tt.status || (tt.status == 422 && a.Body["field"] != "source") {
			t.Errorf("source %q: %d %s, want %d", tt.source, a.Status, a.Raw, tt.status)
		}
	}
}

// TestOptInEvidenceIsStructured: the kind of proof, its reference and who
// captured it come back with the point-in-time answer.
func TestOptInEvidenceIsStructured(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	in := api.post("/api/v1/opt-ins", map[string]any{"to": "+14155550123", "evidence": "ticked the SMS box on the signup form",
		"evidence_kind": "web_form", "evidence_ref": "submission 8812", "captured_by": "signup form v3"})
	if in.Status != 201 {
		t.Fatalf("opt-in: %d %s", in.Status, in.Raw)
	}
	a := api.get("/api/v1/contacts/" + in.Body["contact_id"].(string) + "/consent")
	ev, _ := a.Body["event"].(map[string]any)
	want := map[string]any{"evidence_kind": "web_form", "evidence_ref": "submission 8812", "captured_by": "signup form v3"}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("event %s = %v, want %v (%s)", k, ev[k], v, a.Raw)
		}
	}
	if a.Body["consent"] != "opted_in" {
		t.Errorf("consent = %v, want opted_in", a.Body["consent"])
	}
	if bad := api.post("/api/v1/opt-ins", map[string]any{"to": "+14155550124", "evidence": "x", "evidence_kind": "rumour"}); bad.Status != 422 || bad.Body["field"] != "evidence_kind" {
		t.Errorf("an unknown evidence kind: %d %s, want 422 naming evidence_kind", bad.Status, bad.Raw)
	}
}

// TestConsentAtAPointInTimeByIdentifier: the point-in-time answer for the
// contact holding an identifier, in any writing, with who recorded the
// event and when; 404 for an identifier no contact has.
func TestConsentAtAPointInTimeByIdentifier(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	in := api.post("/api/v1/opt-ins", map[string]any{"to": "+14155550123", "evidence": "signed form #12", "occurred_at": t0.Format(time.RFC3339)})
	if in.Status != 201 {
		t.Fatalf("opt-in: %d %s", in.Status, in.Raw)
	}
	a := api.get("/api/v1/consent?to=" + url.QueryEscape("(415) 555-0123") + "&at=" + url.QueryEscape(t0.Add(time.Hour).Format(time.RFC3339)))
	ev, _ := a.Body["event"].(map[string]any)
	actor, _ := ev["actor"].(map[string]any)
	if a.Status != 200 || a.Body["consent"] != "opted_in" || a.Body["contact_id"] != in.Body["contact_id"] || ev["recorded_at"] == nil ||
		actor["type"] != store.ActorAPIKey || actor["label"] == "" {
		t.Errorf("by identifier: %d %s", a.Status, a.Raw)
	}
	if a := api.get("/api/v1/consent?to=" + url.QueryEscape("(415) 555-0123") + "&at=" + url.QueryEscape(t0.Add(-time.Hour).Format(time.RFC3339))); a.Body["consent"] != "none" || a.Body["event"] != nil {
		t.Errorf("before the opt-in: %s", a.Raw)
	}
	if a := api.get("/api/v1/consent?to=%2B14155550199"); a.Status != 404 {
		t.Errorf("an identifier no contact has: %d %s, want 404", a.Status, a.Raw)
	}
	if a := api.get("/api/v1/consent?to=nonsense"); a.Status != 400 || a.Body["field"] != "to" {
		t.Errorf("a malformed identifier: %d %s, want 400 naming to", a.Status, a.Raw)
	}
}
