package models_test

import (
	customers "github.com/sendara/console/models/customers"
	errs "github.com/sendara/console/models/errs"

	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// recordEvents writes n audit events, alternating between db.Record and an
// audited db.Tx, and returns the chain in seq order.
func recordEvents(t testing.TB, db *models.DB, n int) []store.AuditEvent {
	t.Helper()
	for i := 1; i <= n; i++ {
		a := store.Audit{Action: "test.event", ObjectType: "test", ObjectID: fmt.Sprint(i), Details: map[string]any{"i": i}}
		var err error
		if i%2 == 1 {
			err = db.Record(t.Context(), modeltest.Staff, a)
		} else {
			err = db.Tx(t.Context(), modeltest.Staff, func(tx *store.Tx) error { tx.Audit(a); return nil })
		}
		if err != nil {
			t.Fatalf("write audit event %d: %v", i, err)
		}
	}
	return chain(t, db)
}

// chain reads every audit event in seq order.
func chain(t testing.TB, db *models.DB) []store.AuditEvent {
	t.Helper()
	var es []store.AuditEvent
	if err := db.Gorm.WithContext(t.Context()).Order("seq").Find(&es).Error; err != nil {
		t.Fatalf("read audit events: %v", err)
	}
	return es
}

func verify(t testing.TB, db *models.DB) store.ChainReport {
	t.Helper()
	rep, err := db.VerifyAudit(t.Context())
	if err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	return rep
}

// bypassAppendOnly lifts the triggers that refuse UPDATE and DELETE on
// audit_events, as an attacker with database access could.
func bypassAppendOnly(t testing.TB, db *models.DB) {
	t.Helper()
	stmts := []string{"ALTER TABLE audit_events DISABLE TRIGGER USER"}
	if db.Dialect == store.SQLite {
		stmts = []string{"DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"}
	}
	for _, s := range stmts {
		if err := db.Gorm.Exec(s).Error; err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestAuditEventsFormOneHashChainInSeqOrder(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)

	es := recordEvents(t, db, 6)

	if len(es) != 6 {
		t.Fatalf("got %d audit events, want 6", len(es))
	}
	for i, e := range es {
		wantPrev := ""
		if i > 0 {
			wantPrev = es[i-1].Hash
		}
		if e.Seq != int64(i+1) || e.PrevHash != wantPrev || e.Hash != e.ComputeHash() || e.ObjectID != fmt.Sprint(i+1) {
			t.Errorf("event %d = seq %d object %s prev %.8s hash %.8s; want seq %d object %d linked to %.8s with its own hash",
				i, e.Seq, e.ObjectID, e.PrevHash, e.Hash, i+1, i+1, wantPrev)
		}
	}
	rep := verify(t, db)
	if !rep.Intact() || rep.Entries != 6 || rep.HeadSeq != 6 || rep.BadSeq != 0 {
		t.Errorf("VerifyAudit = %+v, want intact with 6 entries and head 6", rep)
	}
}

func TestOneTransactionsAuditEventsAreChainedTogether(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	recordEvents(t, db, 1)

	err := db.Record(t.Context(), modeltest.Staff,
		store.Audit{Action: "test.first"}, store.Audit{Action: "test.second"}, store.Audit{Action: "test.third"})
	if err != nil {
		t.Fatalf("Record: %v", err)
	}

	es := chain(t, db)
	var actions []string
	for _, e := range es[1:] {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); got != "test.first test.second test.third" {
		t.Errorf("events after the first = %q, want the three in the order given", got)
	}
	if rep := verify(t, db); !rep.Intact() || rep.Entries != 4 {
		t.Errorf("VerifyAudit = %+v, want intact with 4 entries", rep)
	}
}

func TestVerifyAuditFindsTheFirstTamperedEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(t *testing.T, db *models.DB, es []store.AuditEvent)
		badSeq int64
	}{
		{"an edited entry's details", func(t *testing.T, db *models.DB, es []store.AuditEvent) {
			bypassAppendOnly(t, db)
			mustExec(t, db, `UPDATE audit_events SET details = '{"i":99}' WHERE seq = 3`)
		}, 3},
		{"an edited entry whose own hash was recomputed", func(t *testing.T, db *models.DB, es []store.AuditEvent) {
			bypassAppendOnly(t, db)
			e := es[2]
			e.Details = `{"i":99}`
			mustExec(t, db, "UPDATE audit_events SET details = ?, hash = ? WHERE seq = 3", e.Details, e.ComputeHash())
		}, 4},
		{"a deleted middle entry", func(t *testing.T, db *models.DB, es []store.AuditEvent) {
			bypassAppendOnly(t, db)
			mustExec(t, db, "DELETE FROM audit_events WHERE seq = 3")
		}, 3},
		{"a deleted newest entry", func(t *testing.T, db *models.DB, es []store.AuditEvent) {
			bypassAppendOnly(t, db)
			mustExec(t, db, "DELETE FROM audit_events WHERE seq = 5")
		}, 5},
		{"a forged entry appended without moving the head", func(t *testing.T, db *models.DB, es []store.AuditEvent) {
			forged := es[4]
			forged.Seq, forged.PrevHash, forged.Action = 6, es[4].Hash, "user.login"
			forged.Hash = forged.ComputeHash()
			if err := db.Gorm.Create(&forged).Error; err != nil {
				t.Fatalf("insert forged entry: %v", err)
			}
		}, 6},
		{"a rewritten newest entry with a recomputed hash", func(t *testing.T, db *models.DB, es []store.AuditEvent) {
			bypassAppendOnly(t, db)
			e := es[4]
			e.ActorLabel = "someone else"
			mustExec(t, db, "UPDATE audit_events SET actor_label = ?, hash = ? WHERE seq = 5", e.ActorLabel, e.ComputeHash())
		}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := modeltest.Open(t)
			es := recordEvents(t, db, 5)

			tt.tamper(t, db, es)

			rep := verify(t, db)
			if rep.Intact() || rep.BadSeq != tt.badSeq || rep.Problem == "" {
				t.Errorf("VerifyAudit = %+v, want broken at seq %d", rep, tt.badSeq)
			}
		})
	}
}

func mustExec(t *testing.T, db *models.DB, sql string, args ...any) {
	t.Helper()
	res := db.Gorm.Exec(sql, args...)
	if res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("%s: %d rows, %v", sql, res.RowsAffected, res.Error)
	}
}

func TestAuditEventsRefuseUpdateAndDelete(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	recordEvents(t, db, 3)
	stmts := []string{
		`UPDATE audit_events SET details = '{"i":99}' WHERE seq = 2`,
		"UPDATE audit_events SET action = 'x'",
		"DELETE FROM audit_events WHERE seq = 3",
		"DELETE FROM audit_events",
	}
	if db.Dialect == store.Postgres {
		stmts = append(stmts, "TRUNCATE audit_events")
	}

	for _, s := range stmts {
		err := db.Gorm.Exec(s).Error
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: error %v, want the append-only refusal", s, err)
		}
	}

	if rep := verify(t, db); !rep.Intact() || rep.Entries != 3 {
		t.Errorf("VerifyAudit after refused edits = %+v, want intact with 3 entries", rep)
	}
}

func TestFailedTransactionWritesNoAuditEvent(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	recordEvents(t, db, 2)
	boom := errors.New("boom")

	err := db.Tx(t.Context(), modeltest.Staff, func(tx *store.Tx) error {
		tx.Audit(store.Audit{Action: "test.rolled_back"})
		return boom
	})

	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v, want the function's error", err)
	}
	if es := chain(t, db); len(es) != 2 {
		t.Errorf("audit events after a failed transaction = %d, want 2", len(es))
	}
	if rep := verify(t, db); !rep.Intact() || rep.HeadSeq != 2 {
		t.Errorf("VerifyAudit = %+v, want intact with head 2", rep)
	}
}

func TestFailedChangeLeavesNeitherTheChangeNorItsAuditEvent(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	newCustomer(t, db, "acme")

	_, err := db.CreateCustomer(t.Context(), modeltest.Staff, customers.CustomerInput{Slug: "acme", Name: "Duplicate"})

	if _, ok := errs.AsConflict(err); !ok {
		t.Fatalf("CreateCustomer with a taken slug = %v, want a ConflictError", err)
	}
	if n := len(auditEvents(t, db, "customer.create")); n != 1 {
		t.Errorf("customer.create events = %d, want 1", n)
	}
}

func TestConcurrentAuditedWritesLeaveOneUnbrokenChain(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	if db.Dialect != store.Postgres {
		t.Skip("SQLite has one connection, so its writers never overlap; set CONSOLE_TEST_DB to a postgres:// URL to run this")
	}
	const writers, each = 16, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				key := fmt.Sprintf("w%02d-%02d", w, i)
				errs <- db.Tx(t.Context(), modeltest.Staff, func(tx *store.Tx) error {
					if err := tx.G.Exec("INSERT INTO settings (key, value) VALUES (?, ?)", key, "v").Error; err != nil {
						return err
					}
					tx.Audit(store.Audit{Action: "test.concurrent", ObjectType: "writer", ObjectID: fmt.Sprint(w), Details: map[string]any{"key": key}})
					return nil
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("audited write: %v", err)
		}
	}

	rep := verify(t, db)
	if !rep.Intact() || rep.Entries != writers*each || rep.HeadSeq != writers*each {
		t.Fatalf("VerifyAudit = %+v, want intact with %d entries", rep, writers*each)
	}
	perWriter := map[string]int{}
	for _, e := range chain(t, db) {
		perWriter[e.ObjectID]++
	}
	for w := range writers {
		if n := perWriter[fmt.Sprint(w)]; n != each {
			t.Errorf("writer %d has %d events in the chain, want %d", w, n, each)
		}
	}
}

// TestConcurrentRecordsShareTransactionsButKeepTheirActors has many callers
// record at once: their entries may share a transaction (group commit),
// yet each keeps its own actor and details, each call returns only once
// its entries are committed, and a call with bad details fails alone.
func TestConcurrentRecordsShareTransactionsButKeepTheirActors(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	const callers, each = 24, 20
	var wg sync.WaitGroup
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			actor := store.StaffUser(fmt.Sprint("user-", c), fmt.Sprint("User ", c), "192.0.2.1")
			for i := range each {
				a := store.Audit{Action: "test.record", ObjectType: "caller", ObjectID: fmt.Sprint(c), Details: map[string]any{"i": i}}
				if err := db.Record(t.Context(), actor, a, a); err != nil {
					t.Error(err)
					return
				}
				// Committed when Record returns: this caller's entries are there.
				var n int64
				if err := db.Gorm.Model(&store.AuditEvent{}).Where("actor_id = ?", actor.ID).Count(&n).Error; err != nil || n < int64(2*(i+1)) {
					t.Errorf("caller %d after %d records: %d entries, %v", c, i+1, n, err)
					return
				}
			}
		}()
	}
	bad := store.Audit{Action: "test.bad", Details: map[string]any{"unencodable": make(chan int)}}
	if err := db.Record(t.Context(), modeltest.Staff, bad); err == nil {
		t.Error("an entry whose details cannot be encoded was accepted")
	}
	wg.Wait()
	rep := verify(t, db)
	if !rep.Intact() || rep.Entries != callers*each*2 {
		t.Fatalf("VerifyAudit = %+v, want intact with %d entries", rep, callers*each*2)
	}
	for _, e := range chain(t, db) {
		if e.ActorID != "user-"+e.ObjectID || e.ActorLabel != "User "+e.ObjectID || e.IP != "192.0.2.1" {
			t.Fatalf("entry %d of caller %s carries actor %s (%s, %s)", e.Seq, e.ObjectID, e.ActorID, e.ActorLabel, e.IP)
		}
	}
}

// TestVerifyAuditWhileWritersAppend verifies over and over while entries
// are appended: entries committed during a walk are not tampering.
func TestVerifyAuditWhileWritersAppend(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	recordEvents(t, db, 20)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := db.Record(t.Context(), modeltest.Staff, store.Audit{Action: "test.during_verify", ObjectType: "writer", ObjectID: fmt.Sprint(w, "-", i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 30 {
		if rep := verify(t, db); !rep.Intact() {
			t.Errorf("VerifyAudit during appends = %+v", rep)
			break
		}
	}
	close(stop)
	wg.Wait()
}

func TestListAuditShowsACustomerActorOnlyItsTenantsEvents(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	a := newCustomer(t, db, "acme")
	b := newCustomer(t, db, "other")
	for _, c := range []string{a.ID, b.ID, ""} {
		if err := db.Record(t.Context(), modeltest.Staff, store.Audit{Action: "contact.view", CustomerID: c}); err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	actor := store.CustomerUser("u-1", "", a.ID, "")

	es, err := db.ListAudit(t.Context(), actor, store.AuditFilter{})
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}

	var got []string
	for _, e := range es {
		if e.CustomerID != a.ID {
			t.Errorf("acme's actor sees event %d (%s) of tenant %q", e.Seq, e.Action, e.CustomerID)
		}
		got = append(got, e.Action)
	}
	if strings.Join(got, " ") != "contact.view customer.create" {
		t.Errorf("acme's actor sees %v, want its contact.view and customer.create, newest first", got)
	}
	if all, _ := db.ListAudit(t.Context(), modeltest.Staff, store.AuditFilter{}); len(all) != 5 {
		t.Errorf("staff see %d events, want all 5", len(all))
	}
}

func TestListAuditFiltersByActionPrefixLiterally(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	for _, action := range []string{"user.login", "user.logout", "userx.other", "customer.create"} {
		if err := db.Record(t.Context(), modeltest.Staff, store.Audit{Action: action}); err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	tests := []struct {
		prefix string
		want   string
	}{
		{"user.", "user.logout user.login"},
		{"user_", ""},
		{"customer", "customer.create"},
	}
	for _, tt := range tests {
		es, err := db.ListAudit(t.Context(), modeltest.Staff, store.AuditFilter{Action: tt.prefix})
		if err != nil {
			t.Fatalf("ListAudit: %v", err)
		}
		var got []string
		for _, e := range es {
			got = append(got, e.Action)
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("ListAudit(action %q) = %v, want %q", tt.prefix, got, tt.want)
		}
	}
}

func TestListAuditPagesByKeyset(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	recordEvents(t, db, 7)

	page1, err := db.ListAudit(t.Context(), modeltest.Staff, store.AuditFilter{Limit: 3})
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	page2, err := db.ListAudit(t.Context(), modeltest.Staff, store.AuditFilter{Limit: 3, Before: page1[len(page1)-1].Seq})
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}

	var seqs []int64
	for _, e := range append(page1, page2...) {
		seqs = append(seqs, e.Seq)
	}
	if fmt.Sprint(seqs) != "[7 6 5 4 3 2]" {
		t.Errorf("two pages of three = %v, want [7 6 5 4 3 2]", seqs)
	}
}

// TestVerifyAuditReadsEveryStoredFormOfATimestamp rewrites entries'
// timestamps to the same instant in other forms a database may hold, which
// still verify, and to another instant, which does not.
func TestVerifyAuditReadsEveryStoredFormOfATimestamp(t *testing.T) {
	t.Parallel()
	forms := []func(time.Time) string{
		func(at time.Time) string { return at.Format(time.RFC3339Nano) },
		func(at time.Time) string {
			return at.In(time.FixedZone("", 2*3600)).Format("2006-01-02 15:04:05.999999999-07:00")
		},
		func(at time.Time) string { return at.In(time.FixedZone("", -5*3600)).Format(time.RFC3339Nano) },
		func(at time.Time) string { return at.Format("2006-01-02 15:04:05.000000000Z") },
	}
	for i, form := range forms {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			db := modeltest.Open(t)
			es := recordEvents(t, db, 5)
			bypassAppendOnly(t, db)

			for _, seq := range []int{2, 4} {
				mustExec(t, db, "UPDATE audit_events SET occurred_at = ? WHERE seq = ?", form(es[seq-1].OccurredAt), seq)
			}
			if rep := verify(t, db); !rep.Intact() || rep.Entries != 5 {
				t.Errorf("VerifyAudit with timestamps as %q = %+v, want intact with 5 entries", form(es[0].OccurredAt), rep)
			}

			mustExec(t, db, "UPDATE audit_events SET occurred_at = ? WHERE seq = 3", form(es[2].OccurredAt.Add(time.Microsecond)))
			if rep := verify(t, db); rep.Intact() || rep.BadSeq != 3 {
				t.Errorf("VerifyAudit with entry 3 a microsecond later = %+v, want broken at 3", rep)
			}
		})
	}
}

// TestVerifyAuditHashesAnyText writes quotes, HTML, control characters and
// non-ASCII into every text of the chain.
func TestVerifyAuditHashesAnyText(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	texts := []string{"", `"quoted" \ back`, "<b>&amp;</b>", "tab\tline\ncr\r\x01\x1f\x7f", "é 日本語 🙂", "sep\u2028\u2029", "\ufffd"}
	for _, s := range texts {
		actor := store.StaffUser(s, s, s)
		a := store.Audit{Action: "test." + s, ObjectType: s, ObjectID: s, CustomerID: s, Details: map[string]any{s: s}}
		if err := db.Record(t.Context(), actor, a); err != nil {
			t.Fatalf("Record %q: %v", s, err)
		}
	}
	es := chain(t, db)
	for _, e := range es {
		if e.Hash != e.ComputeHash() {
			t.Errorf("entry %d (%q) reads back with another hash", e.Seq, e.ActorLabel)
		}
	}
	if rep := verify(t, db); !rep.Intact() || rep.Entries != int64(len(texts)) {
		t.Errorf("VerifyAudit = %+v, want intact with %d entries", rep, len(texts))
	}
}
