package models_test

import (
	consent "github.com/sendara/console/models/consent"
	customers "github.com/sendara/console/models/customers"

	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models"
	imports "github.com/sendara/console/models/imports"
	"github.com/sendara/console/models/modeltest"
)

// optInCheck is the suppression check's answer for value as the pipeline
// reads it: "opted_out", "opted_in" or "no_record".
func optInCheck(t *testing.T, db *models.DB, c *customers.Customer, value string) string {
	t.Helper()
	s, err := db.CheckSuppression(context.Background(), c.ID, bulkIdent(value), "")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case s.Suppressed:
		return "opted_out"
	case s.OptedIn:
		return "opted_in"
	}
	return "no_record"
}

func optInProblems(t *testing.T, db *models.DB, job *imports.ImportJob) []string {
	t.Helper()
	ps, err := db.ImportProblems(context.Background(), job, 0, -2, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%d/%s", p.Line, p.Field))
	}
	return out
}

// TestAnOptInImportAppliesOnlyRowsWithTheirEvidence: an opt-in import's
// rows need a good identifier and all of their evidence (kind from the
// fixed set, reference, who captured it, when); the others are listed by
// line and column and not applied. An applied row is an opt-in with
// structured evidence naming the file and line; a row whose opt-in
// predates a standing opt-out is refused at apply time, listed, and the
// person stays opted out.
func TestAnOptInImportAppliesOnlyRowsWithTheirEvidence(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := newCustomer(t, db, "acme")
	now := time.Now().UTC()
	// Opted out yesterday, in the CRM: line 6's opt-in of last week is older.
	if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: "+14155550106", Kind: consent.OptOut,
		Source: "crm", OccurredAt: now.Add(-24 * time.Hour)}, "US"); err != nil {
		t.Fatal(err)
	}
	// Opted out last month: line 7's opt-in of last week is newer.
	if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: "+14155550107", Kind: consent.OptOut,
		Source: "crm", OccurredAt: now.Add(-30 * 24 * time.Hour)}, "US"); err != nil {
		t.Fatal(err)
	}
	week := now.Add(-7 * 24 * time.Hour).Format("2006-01-02 15:04")
	file := "Phone,Email,Evidence Kind,Evidence Reference,Captured By,Captured At\n" +
		"4155550102,ann@example.com,Web form,form-77/submission-1,signup page," + week + "\n" + // good
		"4155550103,,carrier pigeon,note-3,Bob," + week + "\n" + // bad kind
		"4155550104,,paper form,,Bob," + week + "\n" + // no reference
		"not-a-phone,,call recording,rec-5.wav,Bob," + week + "\n" + // bad identifier
		"4155550106,,keyword reply,msg-6,inbound," + week + "\n" + // a later opt-out stands
		"4155550107,,CRM_FIELD,hubspot:consent,Carol," + week + "\n" + // after an older opt-out
		"4155550108,,web form,form-8,Dan,\n" // no capture time
	job := uploadCSV(t, db, modeltest.Staff, acme.ID, imports.ImportOptIns, file)
	if job.Error != "" {
		t.Fatalf("mapping problem: %s (mapping %+v)", job.Error, job.Mapping)
	}
	want := []string{"3/Evidence Kind", "4/Evidence Reference", "5/Phone", "8/Captured At"}
	if got := optInProblems(t, db, job); !slices.Equal(got, want) {
		t.Errorf("bad rows before the run = %v, want %v", got, want)
	}
	if job.BadRows != 4 || job.PartialRows != 0 {
		t.Errorf("bad %d partial %d, want 4 and 0: an opt-in row is all or nothing", job.BadRows, job.PartialRows)
	}
	job = applyImport(t, db, modeltest.Staff, job, 1000)
	if job.Applied != 2 || job.Unchanged != 1 {
		t.Errorf("applied %d unchanged %d, want 2 and 1 (the refused line 6)", job.Applied, job.Unchanged)
	}
	for value, want := range map[string]string{
		"+14155550102": "opted_in", "ann@example.com": "opted_in", "+14155550103": "no_record", "+14155550104": "no_record",
		"+14155550106": "opted_out", "+14155550107": "opted_in", "+14155550108": "no_record",
	} {
		if got := optInCheck(t, db, acme, value); got != want {
			t.Errorf("%s: %s, want %s", value, got, want)
		}
	}
	if got := optInProblems(t, db, job); !slices.Contains(got, "6/row") {
		t.Errorf("the refused line 6 is not listed: %v", got)
	}
	var ev consent.ConsentEvent
	if err := db.Gorm.Where("customer_id = ? AND identifier = ? AND kind = ?", acme.ID, "+14155550102", consent.OptIn).Take(&ev).Error; err != nil {
		t.Fatal(err)
	}
	if ev.Source != "csv_import" || ev.EvidenceKind != "web_form" || ev.EvidenceRef != "form-77/submission-1" || ev.CapturedBy != "signup page" ||
		ev.Evidence != "CSV import list.csv, line 2" || ev.OccurredAt.Format("2006-01-02 15:04") != week {
		t.Errorf("line 2's ledger event = %+v", ev)
	}
	// The same file again changes nothing.
	again := applyImport(t, db, modeltest.Staff, uploadCSV(t, db, modeltest.Staff, acme.ID, imports.ImportOptIns, file), 1000)
	if again.Applied != 0 {
		t.Errorf("a re-import applied %d rows", again.Applied)
	}
}

// TestAnOptInImportNeedsItsEvidenceColumns: a file without evidence
// columns cannot be started; the mapping's problem names what is missing.
func TestAnOptInImportNeedsItsEvidenceColumns(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	job := uploadCSV(t, db, modeltest.Staff, acme.ID, imports.ImportOptIns, "Phone,Evidence Kind\n4155550102,web form\n")
	if job.Error == "" {
		t.Fatalf("no mapping problem for a file without a reference, capturer or time (mapping %+v)", job.Mapping)
	}
	for _, want := range []string{"the evidence reference", "who captured it", "when it was captured"} {
		if !strings.Contains(job.Error, want) {
			t.Errorf("mapping problem %q does not name %q", job.Error, want)
		}
	}
	if _, err := db.StartImport(context.Background(), modeltest.Staff, job.ID, ""); err == nil {
		t.Error("an opt-in import without evidence columns was started")
	}
	if n := rowCount(t, db, "consent_events", "customer_id = ?", acme.ID); n != 0 {
		t.Errorf("%d ledger events written", n)
	}
}
