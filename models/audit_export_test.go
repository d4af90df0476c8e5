package models_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/auditchain"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// TestAuditRefusesAnInsertThatDoesNotContinueTheChain writes rows past the
// application, as SQL with table access could: only one that continues the
// newest entry goes in.
func TestAuditRefusesAnInsertThatDoesNotContinueTheChain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(e *store.AuditEvent, es []store.AuditEvent)
		refused bool
	}{
		{"the next entry, linked", func(e *store.AuditEvent, es []store.AuditEvent) {}, false},
		{"a wrong prev_hash", func(e *store.AuditEvent, es []store.AuditEvent) { e.PrevHash = es[1].Hash }, true},
		{"an empty prev_hash", func(e *store.AuditEvent, es []store.AuditEvent) { e.PrevHash = "" }, true},
		{"a skipped seq", func(e *store.AuditEvent, es []store.AuditEvent) { e.Seq = 5 }, true},
		{"a seq far ahead", func(e *store.AuditEvent, es []store.AuditEvent) { e.Seq = 1000 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := modeltest.Open(t)
			es := recordEvents(t, db, 3)
			e := es[2]
			e.Seq, e.PrevHash, e.Action = 4, es[2].Hash, "forged.entry"
			tt.edit(&e, es)
			e.Hash = e.ComputeHash()
			err := db.Gorm.Create(&e).Error
			if tt.refused != (err != nil) {
				t.Fatalf("raw insert of entry %d linked to %.8s: %v; want refused %v", e.Seq, e.PrevHash, err, tt.refused)
			}
			if tt.refused && !strings.Contains(err.Error(), "audit_events") {
				t.Errorf("the refusal does not say why: %v", err)
			}
			if n := len(chain(t, db)); tt.refused && n != 3 {
				t.Errorf("%d entries after a refused insert, want 3", n)
			}
		})
	}
}

// TestAuditRefusesAFirstEntryThatDoesNotStartTheChain: the
// first entry must be seq 1 with no prev_hash.
func TestAuditRefusesAFirstEntryThatDoesNotStartTheChain(t *testing.T) {
	t.Parallel()
	for _, e := range []store.AuditEvent{
		{Seq: 2, Action: "x"},
		{Seq: 1, Action: "x", PrevHash: strings.Repeat("a", 64)},
	} {
		db := modeltest.Open(t)
		e.OccurredAt = store.Now()
		e.Hash = e.ComputeHash()
		if err := db.Gorm.Create(&e).Error; err == nil {
			t.Errorf("entry %d with prev_hash %q went into an empty chain", e.Seq, e.PrevHash)
		}
	}
}

func exportAll(t *testing.T, db *models.DB, actor store.Actor, f store.AuditFilter) []auditchain.Entry {
	t.Helper()
	var es []auditchain.Entry
	n, err := db.ExportAudit(t.Context(), actor, f, func(e *auditchain.Entry) error {
		es = append(es, *e)
		return nil
	})
	if err != nil || n != int64(len(es)) {
		t.Fatalf("ExportAudit = %d, %v (got %d)", n, err, len(es))
	}
	return es
}

func TestExportAuditIsTheChainAsStored(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	// More than one page, so the keyset paging is crossed.
	many := make([]store.Audit, 1205)
	for i := range many {
		many[i] = store.Audit{Action: "test.bulk", ObjectID: fmt.Sprint(i), Details: map[string]any{"why": "<&> \u2028 é"}}
	}
	if err := db.Record(t.Context(), modeltest.Staff, many...); err != nil {
		t.Fatal(err)
	}
	es := exportAll(t, db, modeltest.Staff, store.AuditFilter{})
	if len(es) != len(many) || es[0].Seq != 1 || es[len(es)-1].Seq != int64(len(many)) {
		t.Fatalf("exported %d entries, want %d from 1", len(es), len(many))
	}
	stored := chain(t, db)
	for i, e := range es {
		if e.Hash != stored[i].Hash || e.ComputeHash() != e.Hash {
			t.Fatalf("exported entry %d hashes to %s, stored %s", e.Seq, e.ComputeHash(), stored[i].Hash)
		}
	}
	// The export is recorded after the entries it covers.
	last := stored[len(stored)-1]
	if last.Action != "audit.export" || last.Seq != int64(len(many))+1 {
		t.Errorf("newest entry %d is %s, want the export's own record", last.Seq, last.Action)
	}
}

func TestExportAuditOfACustomerAdminHoldsOnlyItsTenant(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	for i, tenant := range []string{"acme", "bright", "acme", "", "bright", "acme"} {
		if err := db.Record(t.Context(), modeltest.Staff, store.Audit{Action: "contact.view", CustomerID: tenant, ObjectID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	admin := store.CustomerUser("u-acme", "admin@acme.example", "acme", "")
	got := exportAll(t, db, admin, store.AuditFilter{})
	var seqs []int64
	for _, e := range got {
		seqs = append(seqs, e.Seq)
	}
	if fmt.Sprint(seqs) != "[1 3 6]" {
		t.Errorf("acme's export = %v, want [1 3 6]", seqs)
	}
	es := chain(t, db)
	exp := es[len(es)-1]
	if exp.Action != "audit.export" || exp.CustomerID != "acme" || exp.ActorLabel != "admin@acme.example" {
		t.Errorf("the export is recorded as %+v, want an audit.export in acme's log by its admin", exp)
	}
	// A filter naming another tenant cannot widen the scope.
	for _, f := range []store.AuditFilter{{CustomerID: "bright"}, {Actions: []string{"contact."}}} {
		for _, e := range exportAll(t, db, admin, f) {
			if e.CustomerID != "acme" {
				t.Errorf("acme's admin exported entry %d of tenant %q", e.Seq, e.CustomerID)
			}
		}
	}
}

func TestAuditFilterNarrowsByEveryField(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ann := store.StaffUser("u-ann", "ann@sendara.example", "")
	bob := store.StaffUser("u-bob", "bob@sendara.example", "")
	writes := []struct {
		by store.Actor
		a  store.Audit
	}{
		{ann, store.Audit{Action: "request.deny", ObjectID: "r-1", CustomerID: "acme", Details: map[string]any{"reference": "PR-2026-000001", "reason": "identity not verified"}}},
		{bob, store.Audit{Action: "contact.view", ObjectID: "c-1", CustomerID: "acme"}},
		{ann, store.Audit{Action: "user.login"}},
		{bob, store.Audit{Action: "request.verify", ObjectID: "r-2", CustomerID: "bright", Details: map[string]any{"reference": "PR-2026-000002", "skipped": "known customer"}}},
	}
	for _, w := range writes {
		if err := db.Record(t.Context(), w.by, w.a); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		f    store.AuditFilter
		want string
	}{
		{"several actions", store.AuditFilter{Actions: []string{"user.", "contact."}}, "contact.view user.login"},
		{"an actor", store.AuditFilter{Actor: "bob@sendara.example"}, "contact.view request.verify"},
		{"a customer", store.AuditFilter{CustomerID: "acme"}, "request.deny contact.view"},
		{"an object", store.AuditFilter{Object: "c-1"}, "contact.view"},
		{"a request by reference", store.AuditFilter{Object: "PR-2026-000002"}, "request.verify"},
		{"text in the details", store.AuditFilter{Text: "identity not"}, "request.deny"},
		{"text with LIKE wildcards", store.AuditFilter{Text: "%"}, ""},
	}
	for _, tt := range tests {
		es := exportAll(t, db, modeltest.Staff, tt.f)
		var got []string
		for _, e := range es {
			got = append(got, e.Action)
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: exported %v, want %q", tt.name, got, tt.want)
		}
	}
}

func newAuditKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestCheckpointsExposeARewriteAndARollback: a rewrite of the whole chain
// verifies on its own (every hash recomputed) and a rolled-back chain too;
// only the checkpoint signed before tells.
func TestCheckpointsExposeARewriteAndARollback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		tamper  func(t *testing.T, db *models.DB, es []store.AuditEvent)
		problem string
	}{
		{"nothing changed, more entries appended", func(t *testing.T, db *models.DB, es []store.AuditEvent) {
			recordEvents(t, db, 2)
		}, ""},
		{"the whole chain rewritten", func(t *testing.T, db *models.DB, es []store.AuditEvent) {
			bypassAppendOnly(t, db)
			prev := ""
			for _, e := range es {
				if e.Seq == 2 {
					e.Details = `{"i":"rewritten"}`
				}
				e.PrevHash = prev
				e.Hash = e.ComputeHash()
				mustExec(t, db, "UPDATE audit_events SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?", e.Details, e.PrevHash, e.Hash, e.Seq)
				prev = e.Hash
			}
			mustExec(t, db, "UPDATE audit_head SET hash = ? WHERE id = 1", prev)
		}, "rewritten"},
		{"rolled back to an older copy", func(t *testing.T, db *models.DB, es []store.AuditEvent) {
			// The state an older copy of the database is in: the newest
			// entries and the head as they were before them.
			bypassAppendOnly(t, db)
			mustExec(t, db, "DELETE FROM audit_events WHERE seq = 5")
			mustExec(t, db, "DELETE FROM audit_events WHERE seq = 4")
			mustExec(t, db, "UPDATE audit_head SET seq = 3, hash = ? WHERE id = 1", es[2].Hash)
		}, "rolled back"},
		{"rolled back, then written past the checkpoint again", func(t *testing.T, db *models.DB, es []store.AuditEvent) {
			bypassAppendOnly(t, db)
			mustExec(t, db, "DELETE FROM audit_events WHERE seq = 5")
			mustExec(t, db, "UPDATE audit_head SET seq = 4, hash = ? WHERE id = 1", es[3].Hash)
			recordEvents(t, db, 3)
		}, "rewritten"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := modeltest.Open(t)
			es := recordEvents(t, db, 5)
			key := newAuditKey(t)
			c, err := db.CheckpointAudit(t.Context(), key)
			if err != nil || c.Seq != 5 || c.Hash != es[4].Hash {
				t.Fatalf("CheckpointAudit = %+v, %v; want the head, entry 5", c, err)
			}
			if err := c.CheckSignature([]ed25519.PublicKey{key.Public().(ed25519.PublicKey)}); err != nil {
				t.Fatalf("the checkpoint's own signature: %v", err)
			}

			tt.tamper(t, db, es)

			if rep := verify(t, db); !rep.Intact() {
				t.Fatalf("the chain alone should still verify: %+v", rep)
			}
			err = db.CheckAuditCheckpoint(t.Context(), c)
			if (tt.problem == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.problem)) {
				t.Errorf("CheckAuditCheckpoint = %v, want %q", err, tt.problem)
			}
		})
	}
}

func TestLastAuditCheckpointIsTheNewest(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	if c, err := db.LastAuditCheckpoint(t.Context()); err != nil || c != nil {
		t.Fatalf("no checkpoint yet: %+v, %v", c, err)
	}
	key := newAuditKey(t)
	recordEvents(t, db, 2)
	if _, err := db.CheckpointAudit(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	recordEvents(t, db, 1)
	want, err := db.CheckpointAudit(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.LastAuditCheckpoint(t.Context())
	if err != nil || c == nil || c.Seq != 3 || c.Hash != want.Hash || c.KeyID != want.KeyID {
		t.Errorf("LastAuditCheckpoint = %+v, %v; want entry 3 by key %s", c, err, want.KeyID)
	}
}
