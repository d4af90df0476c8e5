package webhooks_test

import (
	consent "github.com/sendara/console/models/consent"
	hooks "github.com/sendara/console/models/hooks"

	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/jobs"
	imports "github.com/sendara/console/models/imports"
	"github.com/sendara/console/models/modeltest"
	"github.com/sendara/console/webhooks"
)

// TestACSVImportsOptOutsReachTheEndpoint: a CSV opt-out import run by the
// job runner (the path of the upload page and of console import opt-outs)
// sends consent.opted_out for each person it opts out, signed, to a real
// receiver on loopback, as single opt-outs do; a person already opted out
// gets none. SQLite takes BulkOptOuts' Go path, PostgreSQL its set-based one.
func TestACSVImportsOptOutsReachTheEndpoint(t *testing.T) {
	f := newFixture(t)
	e := f.endpoint(hooks.EventOptedOut)
	f.consent(consent.OptOut, "+14155550199") // already opted out
	f.drain(f.sender())
	before := len(f.rc.snapshot())
	job, err := f.db.CreateImport(f.ctx, modeltest.Staff, imports.ImportUpload{CustomerID: f.acme.ID, FileName: "unsubscribed.csv",
		File: strings.NewReader("Phone,Email,Record ID\n4155550100,ann@example.com,hs-1\n4155550101,,\n4155550199,,\n")},
		imports.ImportOptions{Region: "US", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.StartImport(f.ctx, modeltest.Staff, job.ID, ""); err != nil {
		t.Fatal(err)
	}
	if found, err := jobs.NewRunner(f.db, jobs.Options{Log: quiet()}).RunOnce(f.ctx); !found || err != nil {
		t.Fatalf("import runner: %v, %v", found, err)
	}
	f.drain(f.sender())
	got := f.rc.snapshot()[before:]
	var people [][]string
	for _, m := range got {
		if err := webhooks.Verify(e.Secret, m.header, m.body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		if m.typ != hooks.EventOptedOut || m.data["source"] != "csv_import" || m.data["reason"] != "opt_out" {
			t.Errorf("message = %s %v", m.typ, m.data)
		}
		var ids []string
		for _, v := range m.data["identifiers"].([]any) {
			ids = append(ids, v.(string))
		}
		people = append(people, ids)
	}
	slices.SortFunc(people, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	want := [][]string{{"+14155550100", "ann@example.com"}, {"+14155550101"}}
	if len(people) != 2 || !slices.Equal(people[0], want[0]) || !slices.Equal(people[1], want[1]) {
		t.Fatalf("the import's messages name %v, want %v", people, want)
	}
	for _, m := range got {
		if ids := m.data["identifiers"].([]any); ids[0] == "+14155550100" && m.data["crm_id"] != "hs-1" {
			t.Errorf("Ann's message carries crm_id %v, want hs-1", m.data["crm_id"])
		}
	}
}
