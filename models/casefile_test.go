package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	requests "github.com/sendara/console/models/requests"

	"archive/zip"
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sendara/console/models/auditchain"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestCaseFileTellsWhoVerifiedEachIdentifier(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	ann := store.StaffUser(uuid.NewString(), "ann@sendara.test", "")
	bob := store.StaffUser(uuid.NewString(), "bob@sendara.test", "")
	r := newRequest(t, db, requests.RequestInput{Type: calendar.TypeAccess, Regime: calendar.RegimeGDPR,
		Identifiers: []string{"+14155550123", "jane@example.com", "+14155550199"}, Requester: requests.Requester{Email: "jane@example.com"}})
	if err := db.VerifyIdentifier(ctx, ann, la(t), r.ID, "+14155550123", "phone_call", "called back on the number", "https://console.example/inbox"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.VerifyManually(ctx, bob, r.ID, "email_reply", "replied from the address on file"); err != nil {
		t.Fatal(err)
	}
	cf, err := db.CaseFile(ctx, modeltest.Staff, r.ID, "request.case_file_export")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		identifier, method, by string
	}{
		{"+14155550123", "phone_call", "ann@sendara.test"},
		{"jane@example.com", "email_reply", "bob@sendara.test"},
		{"+14155550199", "email_reply", "bob@sendara.test"},
	}
	if len(cf.Verification) != len(tests) {
		t.Fatalf("verification %+v", cf.Verification)
	}
	for i, tt := range tests {
		v := cf.Verification[i]
		if v.Identifier != tt.identifier || !v.Verified || v.Method != tt.method || v.By != tt.by || v.AuditSeq == 0 {
			t.Errorf("%s: %+v, want %s by %s", tt.identifier, v, tt.method, tt.by)
		}
		// The entry it names is in the case file's audit lines.
		found := false
		for _, e := range cf.Audit {
			found = found || e.Seq == v.AuditSeq && e.ActorLabel == tt.by
		}
		if !found {
			t.Errorf("%s: audit entry %d is not in the case file", tt.identifier, v.AuditSeq)
		}
	}

	// The zip's audit lines verify as a filtered export; the case file
	// itself was recorded, in the request's log.
	var buf bytes.Buffer
	if err := cf.WriteZip(&buf, time.UTC); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name != "audit.jsonl" {
			continue
		}
		rc, _ := f.Open()
		rep, err := auditchain.VerifyExport(rc, true)
		rc.Close()
		if err != nil || !rep.Intact() || rep.Entries != int64(len(cf.Audit)) {
			t.Errorf("audit.jsonl: %+v, %v", rep, err)
		}
	}
	events, err := db.ListAudit(ctx, modeltest.Staff, store.AuditFilter{Action: "request.case_file_export", Object: r.Reference})
	if err != nil || len(events) != 1 {
		t.Errorf("case file export entries: %d, %v", len(events), err)
	}

	// Customer users get no case file.
	acme := mustCustomer(t, db, "acme")
	if _, err := db.CaseFile(ctx, customerActor(t, db, acme), r.ID, "request.case_file_export"); err != store.ErrNotFound {
		t.Errorf("a customer user: %v", err)
	}
}
