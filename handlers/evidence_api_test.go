package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	calendar "github.com/sendara/console/models/calendar"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestEvidenceAPIKeyNotFoundIsLogged(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, bright := app.customer("acme"), app.customer("bright")
	theirs := app.contact(t, bright, "Jane Doe", "+14155550123")
	acmeKey := app.apiKey(t, acme)
	staffKey := app.apiKey(t, nil)
	absent := uuid.NewString()

	tests := []struct {
		name     string
		key      *apiClient
		path     string
		object   string
		customer string
	}{
		{"another tenant's contact", acmeKey, "/api/v1/contacts/" + theirs.ID, theirs.ID, acme.ID},
		{"another tenant's consent", acmeKey, "/api/v1/contacts/" + theirs.ID + "/consent?at=2026-01-01T00:00:00Z", theirs.ID, acme.ID},
		{"an absent request", staffKey, "/api/v1/requests/" + absent, absent, ""},
	}
	for _, tt := range tests {
		before := len(app.auditEvents("access.not_found"))
		if a := tt.key.call(http.MethodGet, tt.path, nil); a.Status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", tt.name, a.Status)
			continue
		}
		es := app.auditEvents("access.not_found")
		if len(es) != before+1 {
			t.Errorf("%s: %d access.not_found events, want 1 more", tt.name, len(es)-before)
			continue
		}
		e := es[0]
		if e.ObjectID != tt.object || e.ActorType != store.ActorAPIKey || e.ActorLabel != "test key" || e.CustomerID != tt.customer ||
			!strings.Contains(e.Details, "GET /api/v1/") {
			t.Errorf("%s: logged as %+v", tt.name, e)
		}
	}
}

func TestEvidenceRequesterBundleDownloadNamesItsCustomers(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, bright := app.customer("acme"), app.customer("bright")
	app.customer("cora") // holds nothing of her
	app.contact(t, acme, "Jane Doe", "+14155550123")
	app.contact(t, bright, "Jane D.", "+14155550123")
	r := app.instructedRequest(t, calendar.TypeAccess, "+14155550123")
	b, err := app.db.ExportBundle(context.Background(), modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := app.client().get("/exports/requests/" + b.Token); p.Status != http.StatusOK {
		t.Fatalf("download: %d", p.Status)
	}
	es := app.auditEvents("request.export_download")
	if len(es) != 1 {
		t.Fatalf("%d downloads logged", len(es))
	}
	var d struct {
		Customers []string `json:"customers"`
		Reference string   `json:"reference"`
	}
	if err := json.Unmarshal([]byte(es[0].Details), &d); err != nil {
		t.Fatal(err)
	}
	want := []string{acme.ID, bright.ID}
	slices.Sort(want)
	slices.Sort(d.Customers)
	if !slices.Equal(d.Customers, want) || d.Reference != r.Reference {
		t.Errorf("download details %s, want customers %v", es[0].Details, want)
	}
}
