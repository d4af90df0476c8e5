package models_test

import (
	"strings"
	"testing"

	"github.com/sendara/console/models"
	consent "github.com/sendara/console/models/consent"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// count runs a COUNT query.
func count(t *testing.T, db *models.DB, query string, args ...any) int {
	t.Helper()
	var n int64
	if err := db.Gorm.WithContext(t.Context()).Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return int(n)
}

func seed(t *testing.T, db *models.DB, customers, contacts int) models.SeedResult {
	t.Helper()
	var calls, last int
	res, err := db.Seed(t.Context(), modeltest.Staff, customers, contacts, func(done, total int) {
		calls++
		last = done
		if total != contacts {
			t.Errorf("progress total %d, want %d", total, contacts)
		}
	})
	if err != nil {
		t.Fatalf("Seed(%d, %d): %v", customers, contacts, err)
	}
	if calls == 0 || last != contacts {
		t.Errorf("progress reported %d calls ending at %d, want at least one ending at %d", calls, last, contacts)
	}
	return res
}

func TestSeedSpreadsContactsOverSeedCustomersWithAPhoneAndAnEmailEach(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)

	res := seed(t, db, 3, 1000)

	// Every tenth contact of each customer opts out: 33 of 334 and of 333.
	want := models.SeedResult{Customers: 3, CustomersCreated: 3, Contacts: 1000, Identifiers: 2000, OptedOut: 99}
	if res != want {
		t.Errorf("Seed = %+v, want %+v", res, want)
	}
	for slug, n := range map[string]int{"seed-1": 334, "seed-2": 333, "seed-3": 333} {
		c, err := db.CustomerBySlug(t.Context(), slug)
		if err != nil {
			t.Fatalf("customer %s: %v", slug, err)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM contacts WHERE customer_id = ?", c.ID); got != n {
			t.Errorf("%s has %d contacts, want %d", slug, got, n)
		}
	}
	for kind, n := range map[string]int{store.KindPhone: 1000, store.KindEmail: 1000} {
		if got := count(t, db, "SELECT COUNT(*) FROM contact_identifiers WHERE kind = ?", kind); got != n {
			t.Errorf("%d %s identifiers, want %d", got, kind, n)
		}
	}
	if got := count(t, db, "SELECT COUNT(*) FROM contacts c WHERE (SELECT COUNT(*) FROM contact_identifiers i WHERE i.customer_id = c.customer_id AND i.contact_id = c.id) <> 2"); got != 0 {
		t.Errorf("%d contacts do not have exactly two identifiers", got)
	}
}

func TestSeedOptsOutATenthWithLedgerStateAndFlagInAgreement(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)

	seed(t, db, 2, 500)

	suppressed := count(t, db, "SELECT COUNT(*) FROM contacts WHERE suppressed = ?", true)
	if suppressed != 50 {
		t.Errorf("%d of 500 contacts suppressed, want 50 (a tenth)", suppressed)
	}
	if got := count(t, db, "SELECT COUNT(*) FROM consent_events WHERE kind = ? AND channel = ?", consent.OptOut, consent.ChannelAll); got != suppressed {
		t.Errorf("%d opt-out events, want one per suppressed contact (%d)", got, suppressed)
	}
	if got := count(t, db, `SELECT COUNT(*) FROM consent_states s JOIN contacts c ON c.customer_id = s.customer_id AND c.id = s.contact_id
		JOIN consent_events e ON e.customer_id = s.customer_id AND e.id = s.event_id AND e.contact_id = s.contact_id
		WHERE s.suppressed = ? AND s.reason = ? AND c.suppressed = ?`, true, consent.ReasonOptOut, true); got != 2*suppressed {
		t.Errorf("%d suppressed states tied to their event and a suppressed contact, want %d (two channels each)", got, 2*suppressed)
	}
	// The suppression check, the pipeline's question, agrees with the flag.
	var rows []struct {
		CustomerID, Value string
		Suppressed        bool
	}
	if err := db.Gorm.WithContext(t.Context()).Raw(`SELECT i.customer_id, i.value, c.suppressed FROM contact_identifiers i
		JOIN contacts c ON c.customer_id = i.customer_id AND c.id = i.contact_id`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		id, err := store.NormalizeIdentifier("to", r.Value, "US")
		if err != nil {
			t.Fatalf("seeded identifier %q does not normalize: %v", r.Value, err)
		}
		s, err := db.CheckSuppression(t.Context(), r.CustomerID, id, "")
		if err != nil {
			t.Fatal(err)
		}
		if s.Suppressed != r.Suppressed || (s.Suppressed && (s.Reason != consent.ReasonOptOut || s.Since == nil)) {
			t.Errorf("CheckSuppression(%s) = %+v, contact suppressed = %v", r.Value, s, r.Suppressed)
		}
	}
}

func TestSeedIdentifiersAreAlreadyNormalized(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	seed(t, db, 1, 300)

	var ids []consent.ContactIdentifier
	if err := db.Gorm.WithContext(t.Context()).Find(&ids).Error; err != nil {
		t.Fatal(err)
	}
	if len(ids) != 600 {
		t.Fatalf("%d identifiers, want 600", len(ids))
	}
	for _, ci := range ids {
		got, err := store.NormalizeIdentifier("to", ci.Value, "US")
		if err != nil || got.Value != ci.Value || got.Kind != ci.Kind {
			t.Errorf("NormalizeIdentifier(%q) = %+v, %v; want it unchanged as a %s", ci.Value, got, err, ci.Kind)
		}
	}
}

func TestSeedWritesOneAuditEntryAndKeepsTheChainIntact(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	before := count(t, db, "SELECT COUNT(*) FROM audit_events")

	seed(t, db, 2, 40)

	var es []store.AuditEvent
	if err := db.Gorm.WithContext(t.Context()).Where("seq > ?", before).Order("seq").Find(&es).Error; err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Action != "seed.run" {
		t.Fatalf("seeding wrote %d audit entries (%v), want one seed.run", len(es), es)
	}
	for _, want := range []string{`"contacts":40`, `"customers":2`, `"customers_created":2`, `"identifiers":80`, `"opted_out":4`} {
		if !strings.Contains(es[0].Details, want) {
			t.Errorf("seed.run details %s lack %s", es[0].Details, want)
		}
	}
	if rep := verify(t, db); !rep.Intact() {
		t.Errorf("audit chain after seeding: %s", rep.Problem)
	}
}

func TestSeedAgainReusesCustomersAndContinuesTheirNumbering(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	seed(t, db, 2, 30)

	res := seed(t, db, 3, 30)

	if res.CustomersCreated != 1 {
		t.Errorf("second run created %d customers, want 1 (seed-3)", res.CustomersCreated)
	}
	if got := count(t, db, "SELECT COUNT(*) FROM customers WHERE slug LIKE 'seed-%'"); got != 3 {
		t.Errorf("%d seed customers, want 3", got)
	}
	if got := count(t, db, "SELECT COUNT(*) FROM contacts"); got != 60 {
		t.Errorf("%d contacts after two runs, want 60", got)
	}
	if got := count(t, db, "SELECT COUNT(DISTINCT customer_id || value) FROM contact_identifiers"); got != 120 {
		t.Errorf("%d distinct identifiers after two runs, want 120", got)
	}
	if rep := verify(t, db); !rep.Intact() {
		t.Errorf("audit chain after two runs: %s", rep.Problem)
	}
}

func TestSeedRefusesNonPositiveCounts(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	for _, tt := range []struct {
		name                string
		customers, contacts int
		field               string
	}{
		{"no customers", 0, 10, "customers"},
		{"negative contacts", 1, -1, "contacts"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Seed(t.Context(), modeltest.Staff, tt.customers, tt.contacts, nil)
			wantInvalid(t, err, tt.field)
		})
	}
	if got := count(t, db, "SELECT COUNT(*) FROM customers"); got != 0 {
		t.Errorf("refused seeds created %d customers", got)
	}
}

func TestSyntheticPhonesAreDistinctValidE164(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, k := range []int{0, 1, 9_999, 10_000, 123_456, 1_000_000, 5_000_000, 99_999_999} {
		p := models.SyntheticPhone(k)
		id, err := store.NormalizeIdentifier("to", p, "US")
		if err != nil || id.Value != p {
			t.Errorf("SyntheticPhone(%d) = %q normalizes to %q, %v", k, p, id.Value, err)
		}
		if seen[p] {
			t.Errorf("SyntheticPhone(%d) = %q repeats an earlier number", k, p)
		}
		seen[p] = true
	}
}
