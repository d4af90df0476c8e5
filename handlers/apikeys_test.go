package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	accounts "github.com/sendara/console/models/accounts"
	customers "github.com/sendara/console/models/customers"
	"github.com/sendara/console/models/modeltest"
)

func TestAKeysScopeLimitsWhatItMayCall(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	calls := []struct {
		name   string
		method string
		path   string
		body   any
	}{
		{"check", http.MethodGet, check("+14155550100"), nil},
		{"batch check", http.MethodPost, "/api/v1/suppressions/check", map[string]any{"to": []string{"+14155550100"}}},
		{"opt-out", http.MethodPost, "/api/v1/opt-outs", map[string]any{"to": "+14155550101"}},
		{"find contact", http.MethodGet, "/api/v1/contacts?to=%2B14155550101", nil},
		{"events feed", http.MethodGet, "/api/v1/events", nil},
	}
	tests := []struct {
		scope string
		ok    []bool // per call: allowed?
	}{
		{accounts.ScopeCheck, []bool{true, true, false, false, false}},
		{accounts.ScopeWrite, []bool{true, true, true, true, true}},
		{accounts.ScopeAdmin, []bool{true, true, true, true, true}},
	}
	for _, tt := range tests {
		_, secret, err := app.db.CreateAPIKeyWith(context.Background(), modeltest.Staff, accounts.APIKeyInput{CustomerID: acme.ID, Scope: tt.scope})
		if err != nil {
			t.Fatal(err)
		}
		api := &apiClient{t: t, app: app, key: secret}
		for i, call := range calls {
			a := api.call(call.method, call.path, call.body)
			if allowed := a.Status != http.StatusForbidden; allowed != tt.ok[i] || a.Status >= 500 {
				t.Errorf("%s key, %s: %d %s", tt.scope, call.name, a.Status, a.Raw)
			}
		}
	}
}

func TestAnExpiredKeyIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	soon := time.Now().Add(time.Second)
	_, secret, err := app.db.CreateAPIKeyWith(context.Background(), modeltest.Staff, accounts.APIKeyInput{CustomerID: acme.ID, Scope: accounts.ScopeCheck, ExpiresAt: &soon})
	if err != nil {
		t.Fatal(err)
	}
	api := &apiClient{t: t, app: app, key: secret}
	if a := api.get(check("+14155550100")); a.Status != http.StatusOK {
		t.Fatalf("before expiry: %d", a.Status)
	}
	time.Sleep(time.Until(soon) + 10*time.Millisecond)
	if a := api.get(check("+14155550100")); a.Status != http.StatusUnauthorized {
		t.Fatalf("after expiry: %d %s", a.Status, a.Raw)
	}
	past := time.Now().Add(-time.Hour)
	if _, _, err := app.db.CreateAPIKeyWith(context.Background(), modeltest.Staff, accounts.APIKeyInput{CustomerID: acme.ID, Scope: accounts.ScopeCheck, ExpiresAt: &past}); err == nil {
		t.Error("a key expiring in the past was created")
	}
}

func TestARotatedKeyWorksBesideItsReplacementAndTheKeysPageShowsUse(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	admin := app.client()
	admin.login(app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.example"))
	admin.get("/apikeys")
	created := admin.post("/apikeys", url.Values{"name": {"pipeline"}, "scope": {accounts.ScopeCheck}, "expires_on": {time.Now().AddDate(1, 0, 0).Format(time.DateOnly)}})
	oldSecret, _ := created.Doc.Find(`[data-testid="new-secret"]`).Attr("value")
	if created.Status != http.StatusOK || oldSecret == "" {
		t.Fatalf("create: %d", created.Status)
	}
	old := &apiClient{t: t, app: app, key: oldSecret}
	for range 3 {
		old.get(check("+14155550100"))
	}
	if err := app.server.FlushUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
	keys, _ := app.db.APIKeys(context.Background(), modeltest.Staff)
	page := admin.get("/apikeys")
	if got := page.text(`[data-testid="usage"]`); !strings.Contains(got, "3 checks") {
		t.Errorf("usage cell = %q", got)
	}
	if got := page.text(`[data-testid="scope"]`); got != accounts.ScopeCheck {
		t.Errorf("scope cell = %q", got)
	}
	rotated := admin.post("/apikeys/"+keys[0].ID+"/rotate", nil)
	newSecret, _ := rotated.Doc.Find(`[data-testid="new-secret"]`).Attr("value")
	if rotated.Status != http.StatusOK || newSecret == "" || newSecret == oldSecret || rotated.text(`[data-testid="rotation-note"]`) == "" {
		t.Fatalf("rotate: %d", rotated.Status)
	}
	fresh := &apiClient{t: t, app: app, key: newSecret}
	for name, api := range map[string]*apiClient{"old": old, "new": fresh} {
		if a := api.get(check("+14155550100")); a.Status != http.StatusOK {
			t.Errorf("%s key during the overlap: %d", name, a.Status)
		}
		if a := api.post("/api/v1/opt-outs", map[string]any{"to": "+14155550100"}); a.Status != http.StatusForbidden {
			t.Errorf("%s key kept the check scope? opt-out: %d", name, a.Status)
		}
	}
	keys, _ = app.db.APIKeys(context.Background(), modeltest.Staff)
	var oldKey *accounts.APIKey
	for i := range keys {
		if keys[i].RotatedFrom == nil {
			oldKey = &keys[i]
		}
	}
	if oldKey == nil || oldKey.ExpiresAt == nil || oldKey.ExpiresAt.Sub(time.Now()) > accounts.APIKeyOverlap || oldKey.ExpiresAt.Before(time.Now().Add(accounts.APIKeyOverlap-time.Hour)) {
		t.Fatalf("old key after rotation: %+v", oldKey)
	}
	// When an overlap ends, only the replacement works: the new key is
	// rotated again with a one-second overlap.
	newKey := keys[0]
	if newKey.RotatedFrom == nil {
		newKey = keys[1]
	}
	_, newest, err := app.db.RotateAPIKey(context.Background(), modeltest.Staff, newKey.ID, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second + 10*time.Millisecond)
	if a := fresh.get(check("+14155550100")); a.Status != http.StatusUnauthorized {
		t.Errorf("a key after its overlap: %d", a.Status)
	}
	if a := (&apiClient{t: t, app: app, key: newest}).get(check("+14155550100")); a.Status != http.StatusOK {
		t.Errorf("its replacement after the overlap: %d", a.Status)
	}
}

func (a *testApp) apiKeyWithScope(t *testing.T, customer *customers.Customer, scope string) *apiClient {
	t.Helper()
	_, secret, err := a.db.CreateAPIKeyWith(context.Background(), modeltest.Staff, accounts.APIKeyInput{CustomerID: customer.ID, Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	return &apiClient{t: t, app: a, key: secret}
}
