package models_test

import (
	imports "github.com/sendara/console/models/imports"

	calendar "github.com/sendara/console/models/calendar"

	consent "github.com/sendara/console/models/consent"

	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models"
	customers "github.com/sendara/console/models/customers"
	"github.com/sendara/console/models/modeltest"

	store "github.com/sendara/console/models/store"
)

// The same expectations run on SQLite (BulkOptOuts' Go path) and, with
// CONSOLE_TEST_DB set, on PostgreSQL (its set-based path): both must give
// each row RecordConsent's outcome.

const (
	bulkP1 = "+14155550101"
	bulkP2 = "+14155550102"
	bulkP3 = "+14155550103"
	bulkE1 = "ann@example.com"
)

// bulkT0 is hour 0 of the tests' rows; times in expectations are hours
// from it.
var bulkT0 = time.Now().UTC().Truncate(time.Hour).Add(-30 * 24 * time.Hour)

func bulkAt(h int) time.Time { return bulkT0.Add(time.Duration(h) * time.Hour) }

func bulkIdent(value string) store.Identifier {
	if strings.Contains(value, "@") {
		return store.Identifier{Kind: store.KindEmail, Value: value}
	}
	return store.Identifier{Kind: store.KindPhone, Value: value}
}

func bulkRow(value, channel, key string, h int) imports.BulkOptOut {
	return imports.BulkOptOut{Identifier: bulkIdent(value), Channel: channel, Evidence: "list.csv " + key,
		OccurredAt: bulkAt(h), IdempotencyKey: key}
}

func bulkRecord(t *testing.T, db *models.DB, c *customers.Customer, value, kind string, h int) {
	t.Helper()
	in := consent.ConsentInput{To: value, Kind: kind, OccurredAt: bulkAt(h)}
	if kind == consent.OptIn {
		in.Evidence = "web form"
	}
	if _, err := db.RecordConsent(context.Background(), modeltest.Staff, c.ID, in, "US"); err != nil {
		t.Fatal(err)
	}
}

func bulkContact(t *testing.T, db *models.DB, c *customers.Customer, values ...string) *consent.Contact {
	t.Helper()
	contact, err := db.CreateContact(context.Background(), modeltest.Staff, c.ID, consent.ContactInput{Identifiers: values}, "US")
	if err != nil {
		t.Fatal(err)
	}
	return contact
}

func runBulk(t *testing.T, db *models.DB, c *customers.Customer, rows []imports.BulkOptOut) imports.BulkResult {
	t.Helper()
	var res imports.BulkResult
	err := db.Tx(context.Background(), modeltest.Staff, func(tx *store.Tx) error {
		var err error
		res, err = imports.BulkOptOuts(tx, c.ID, "csv_import", rows)
		return err
	})
	if err != nil {
		t.Fatalf("BulkOptOuts: %v", err)
	}
	return res
}

// bulkStates describes the lookup rows of value's contact, by channel:
// "channel:suppressed|reachable/reason/since hour/event", the event named
// by its idempotency key, or its kind when it has none.
func bulkStates(t *testing.T, db *models.DB, c *customers.Customer, value string) string {
	t.Helper()
	var rows []struct {
		Channel    string
		Suppressed bool
		Reason     string
		Since      time.Time
		Label      string
	}
	err := db.Gorm.Raw(`SELECT s.channel, s.suppressed, s.reason, s.since, COALESCE(e.idempotency_key, e.kind) AS label
		FROM contact_identifiers i
		JOIN consent_states s ON s.customer_id = i.customer_id AND s.contact_id = i.contact_id
		LEFT JOIN consent_events e ON e.customer_id = s.customer_id AND e.id = s.event_id
		WHERE i.customer_id = ? AND i.value = ? ORDER BY s.channel`, c.ID, value).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		state := "reachable"
		if r.Suppressed {
			state = "suppressed"
		}
		out = append(out, fmt.Sprintf("%s:%s/%s/%g/%s", r.Channel, state, r.Reason, r.Since.Sub(bulkT0).Hours(), r.Label))
	}
	return strings.Join(out, " ")
}

// bulkContactRow is value's contact's flags and ledger length; "none"
// when no contact has value.
func bulkContactRow(t *testing.T, db *models.DB, c *customers.Customer, value string) string {
	t.Helper()
	var rows []struct {
		Suppressed bool
		Restricted bool
		Events     int
	}
	err := db.Gorm.Raw(`SELECT c.suppressed, c.restricted,
			(SELECT count(*) FROM consent_events e WHERE e.customer_id = c.customer_id AND e.contact_id = c.id) AS events
		FROM contact_identifiers i JOIN contacts c ON c.customer_id = i.customer_id AND c.id = i.contact_id
		WHERE i.customer_id = ? AND i.value = ?`, c.ID, value).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return "none"
	}
	return fmt.Sprintf("suppressed=%v restricted=%v events=%d", rows[0].Suppressed, rows[0].Restricted, rows[0].Events)
}

// bulkCheck is the suppression check's answer for value on channel:
// "reachable" or "reason/since hour".
func bulkCheck(t *testing.T, db *models.DB, c *customers.Customer, value, channel string) string {
	t.Helper()
	s, err := db.CheckSuppression(context.Background(), c.ID, bulkIdent(value), channel)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Suppressed {
		return "reachable"
	}
	return fmt.Sprintf("%s/%g", s.Reason, s.Since.Sub(bulkT0).Hours())
}

func TestBulkOptOuts(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	type setup func(t *testing.T, db *models.DB, c *customers.Customer)
	both := func(reason, since, event string) string {
		return fmt.Sprintf("facetime:suppressed/%s/%s/%s imessage:suppressed/%s/%s/%s", reason, since, event, reason, since, event)
	}
	cases := []struct {
		name    string
		setup   setup
		batches [][]imports.BulkOptOut
		results []imports.BulkResult // per batch
		states  map[string]string    // identifier → bulkStates
		flags   map[string]string    // identifier → bulkContactRow
		checks  map[string]string    // "identifier channel" → bulkCheck
	}{{
		name: "new phone and email",
		batches: [][]imports.BulkOptOut{{
			bulkRow(bulkP1, "all", "k1", 0),
			bulkRow(bulkE1, "all", "k2", 1),
		}},
		results: []imports.BulkResult{{Applied: 2, ContactsCreated: 2}},
		states:  map[string]string{bulkP1: both("opt_out", "0", "k1"), bulkE1: both("opt_out", "1", "k2")},
		flags: map[string]string{bulkP1: "suppressed=true restricted=false events=1",
			bulkE1: "suppressed=true restricted=false events=1"},
		checks: map[string]string{bulkP1 + " all": "opt_out/0", bulkE1 + " imessage": "opt_out/1", bulkE1 + " facetime": "opt_out/1"},
	}, {
		name: "existing contact without history, reached by its email",
		setup: func(t *testing.T, db *models.DB, c *customers.Customer) {
			bulkContact(t, db, c, bulkP1, bulkE1)
		},
		batches: [][]imports.BulkOptOut{{bulkRow(bulkE1, "all", "k1", 0)}},
		results: []imports.BulkResult{{Applied: 1}},
		states:  map[string]string{bulkP1: both("opt_out", "0", "k1")},
		flags:   map[string]string{bulkP1: "suppressed=true restricted=false events=1"},
		checks:  map[string]string{bulkP1 + " all": "opt_out/0", bulkE1 + " facetime": "opt_out/0"},
	}, {
		name: "existing contact with history: opted out, then in, now out again",
		setup: func(t *testing.T, db *models.DB, c *customers.Customer) {
			bulkContact(t, db, c, bulkP1)
			bulkRecord(t, db, c, bulkP1, consent.OptOut, -48)
			bulkRecord(t, db, c, bulkP1, consent.OptIn, -47)
		},
		batches: [][]imports.BulkOptOut{{bulkRow(bulkP1, "all", "k1", 0)}},
		results: []imports.BulkResult{{Applied: 1}},
		states:  map[string]string{bulkP1: both("opt_out", "0", "k1")},
		flags:   map[string]string{bulkP1: "suppressed=true restricted=false events=3"},
		checks:  map[string]string{bulkP1 + " imessage": "opt_out/0"},
	}, {
		name: "already opted out: nothing changes",
		setup: func(t *testing.T, db *models.DB, c *customers.Customer) {
			bulkRecord(t, db, c, bulkP1, consent.OptOut, -5)
		},
		batches: [][]imports.BulkOptOut{{bulkRow(bulkP1, "all", "k1", 0), bulkRow(bulkP1, "imessage", "k2", 1)}},
		results: []imports.BulkResult{{Unchanged: 2}},
		states:  map[string]string{bulkP1: both("opt_out", "-5", "opt_out")},
		flags:   map[string]string{bulkP1: "suppressed=true restricted=false events=1"},
		checks:  map[string]string{bulkP1 + " all": "opt_out/-5"},
	}, {
		name: "a later opt-in outlasts older opt-outs",
		setup: func(t *testing.T, db *models.DB, c *customers.Customer) {
			bulkRecord(t, db, c, bulkP1, consent.OptIn, 0)
		},
		// Both rows append: after the first the contact is still reachable.
		batches: [][]imports.BulkOptOut{{bulkRow(bulkP1, "all", "k1", -2), bulkRow(bulkP1, "imessage", "k2", -1)}},
		results: []imports.BulkResult{{Applied: 2}},
		states:  map[string]string{bulkP1: "facetime:reachable//0/opt_in imessage:reachable//0/opt_in"},
		flags:   map[string]string{bulkP1: "suppressed=false restricted=false events=3"},
		checks:  map[string]string{bulkP1 + " all": "reachable", bulkP1 + " imessage": "reachable"},
	}, {
		name: "the same new identifier twice in a batch",
		batches: [][]imports.BulkOptOut{{
			bulkRow(bulkP1, "all", "k1", 0),
			bulkRow(bulkP1, "all", "k2", 1),
		}},
		results: []imports.BulkResult{{Applied: 1, Unchanged: 1, ContactsCreated: 1}},
		states:  map[string]string{bulkP1: both("opt_out", "0", "k1")},
		flags:   map[string]string{bulkP1: "suppressed=true restricted=false events=1"},
	}, {
		name: "channel-specific rows of new identifiers in a batch",
		batches: [][]imports.BulkOptOut{{
			bulkRow(bulkP1, "imessage", "k1", 0),
			bulkRow(bulkP1, "facetime", "k2", 1),
			bulkRow(bulkP1, "all", "k3", 2), // covered by the two before
			bulkRow(bulkP2, "imessage", "k4", 3),
			bulkRow(bulkP2, "all", "k5", 2), // older, but facetime was open
			bulkRow(bulkP3, "imessage", "k6", 4),
			bulkRow(bulkP3, "all", "k7", 4), // same time: the later row is the state's event
		}},
		results: []imports.BulkResult{{Applied: 6, Unchanged: 1, ContactsCreated: 3}},
		states: map[string]string{
			bulkP1: "facetime:suppressed/opt_out/1/k2 imessage:suppressed/opt_out/0/k1",
			bulkP2: "facetime:suppressed/opt_out/2/k5 imessage:suppressed/opt_out/2/k4",
			bulkP3: both("opt_out", "4", "k7"),
		},
		flags: map[string]string{bulkP1: "suppressed=true restricted=false events=2",
			bulkP2: "suppressed=true restricted=false events=2", bulkP3: "suppressed=true restricted=false events=2"},
		checks: map[string]string{bulkP1 + " all": "opt_out/0", bulkP1 + " facetime": "opt_out/1", bulkP2 + " imessage": "opt_out/2"},
	}, {
		name: "imessage, then facetime, then imessage again, batch by batch",
		batches: [][]imports.BulkOptOut{
			{bulkRow(bulkP1, "imessage", "k1", 0)},
			{bulkRow(bulkP1, "facetime", "k2", 1)},
			{bulkRow(bulkP1, "imessage", "k3", 2)},
		},
		results: []imports.BulkResult{{Applied: 1, ContactsCreated: 1}, {Applied: 1}, {Unchanged: 1}},
		states:  map[string]string{bulkP1: "facetime:suppressed/opt_out/1/k2 imessage:suppressed/opt_out/0/k1"},
		flags:   map[string]string{bulkP1: "suppressed=true restricted=false events=2"},
		checks:  map[string]string{bulkP1 + " imessage": "opt_out/0", bulkP1 + " facetime": "opt_out/1", bulkP1 + " all": "opt_out/0"},
	}, {
		name:    "imessage only leaves facetime open",
		batches: [][]imports.BulkOptOut{{bulkRow(bulkE1, "imessage", "k1", 0)}},
		results: []imports.BulkResult{{Applied: 1, ContactsCreated: 1}},
		states:  map[string]string{bulkE1: "imessage:suppressed/opt_out/0/k1"},
		flags:   map[string]string{bulkE1: "suppressed=true restricted=false events=1"},
		checks:  map[string]string{bulkE1 + " imessage": "opt_out/0", bulkE1 + " facetime": "reachable", bulkE1 + " all": "opt_out/0"},
	}, {
		name: "a repeated idempotency key is one row",
		batches: [][]imports.BulkOptOut{{
			bulkRow(bulkP1, "all", "k1", 0),
			bulkRow(bulkP2, "all", "k1", 1), // creates no contact
			bulkRow(bulkP1, "all", "k1", 0),
		}},
		results: []imports.BulkResult{{Applied: 1, Unchanged: 2, ContactsCreated: 1}},
		states:  map[string]string{bulkP1: both("opt_out", "0", "k1"), bulkP2: ""},
		flags:   map[string]string{bulkP1: "suppressed=true restricted=false events=1", bulkP2: "none"},
		checks:  map[string]string{bulkP2 + " all": "reachable"},
	}, {
		name: "a re-run changes nothing",
		batches: [][]imports.BulkOptOut{{
			bulkRow(bulkP1, "all", "k1", 0),
			bulkRow(bulkE1, "imessage", "k2", 1),
			bulkRow(bulkP2, "facetime", "k3", 2),
			bulkRow(bulkP3, "all", "", 3), // no key: in effect already the second time
		}, {
			bulkRow(bulkP1, "all", "k1", 0),
			bulkRow(bulkE1, "imessage", "k2", 1),
			bulkRow(bulkP2, "facetime", "k3", 2),
			bulkRow(bulkP3, "all", "", 3),
		}},
		results: []imports.BulkResult{{Applied: 4, ContactsCreated: 4}, {Unchanged: 4}},
		states: map[string]string{bulkP1: both("opt_out", "0", "k1"), bulkE1: "imessage:suppressed/opt_out/1/k2",
			bulkP2: "facetime:suppressed/opt_out/2/k3", bulkP3: both("opt_out", "3", "opt_out")},
		flags: map[string]string{bulkP1: "suppressed=true restricted=false events=1", bulkE1: "suppressed=true restricted=false events=1",
			bulkP2: "suppressed=true restricted=false events=1", bulkP3: "suppressed=true restricted=false events=1"},
		checks: map[string]string{bulkE1 + " facetime": "reachable", bulkP2 + " facetime": "opt_out/2", bulkP3 + " imessage": "opt_out/3"},
	}, {
		name: "a contact's phone and email in one batch",
		setup: func(t *testing.T, db *models.DB, c *customers.Customer) {
			bulkContact(t, db, c, bulkP1, bulkE1)
		},
		batches: [][]imports.BulkOptOut{{
			bulkRow(bulkP1, "imessage", "k1", 0),
			bulkRow(bulkE1, "all", "k2", 1), // facetime was open
			bulkRow(bulkP1, "all", "k3", 2),
		}},
		results: []imports.BulkResult{{Applied: 2, Unchanged: 1}},
		states:  map[string]string{bulkE1: "facetime:suppressed/opt_out/1/k2 imessage:suppressed/opt_out/0/k2"},
		flags:   map[string]string{bulkP1: "suppressed=true restricted=false events=2"},
		checks:  map[string]string{bulkP1 + " facetime": "opt_out/1", bulkE1 + " imessage": "opt_out/0"},
	}, {
		name: "new and known identifiers, with and without history, in one batch",
		setup: func(t *testing.T, db *models.DB, c *customers.Customer) {
			bulkContact(t, db, c, bulkP1)                     // no history
			bulkRecord(t, db, c, bulkP2, consent.OptIn, 0)    // history, reachable
			bulkRecord(t, db, c, bulkE1, consent.OptOut, -10) // history, suppressed
		},
		batches: [][]imports.BulkOptOut{{
			bulkRow(bulkP1, "facetime", "k1", 1),
			bulkRow(bulkP2, "all", "k2", 2),
			bulkRow(bulkE1, "all", "k3", 3),
			bulkRow(bulkP3, "all", "k4", 4),
			bulkRow(bulkP1, "imessage", "k5", 5),
		}},
		results: []imports.BulkResult{{Applied: 4, Unchanged: 1, ContactsCreated: 1}},
		states: map[string]string{
			bulkP1: "facetime:suppressed/opt_out/1/k1 imessage:suppressed/opt_out/5/k5",
			bulkP2: both("opt_out", "2", "k2"),
			bulkE1: both("opt_out", "-10", "opt_out"),
			bulkP3: both("opt_out", "4", "k4"),
		},
		flags: map[string]string{bulkP1: "suppressed=true restricted=false events=2", bulkP2: "suppressed=true restricted=false events=2",
			bulkE1: "suppressed=true restricted=false events=1", bulkP3: "suppressed=true restricted=false events=1"},
		checks: map[string]string{bulkP1 + " all": "opt_out/1", bulkP2 + " all": "opt_out/2", bulkE1 + " all": "opt_out/-10"},
	}}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCustomer(t, db, fmt.Sprintf("bulk-%d", i))
			if tc.setup != nil {
				tc.setup(t, db, c)
			}
			for j, rows := range tc.batches {
				if got := runBulk(t, db, c, rows); got != tc.results[j] {
					t.Errorf("batch %d: %+v, want %+v", j+1, got, tc.results[j])
				}
			}
			for value, want := range tc.states {
				if got := bulkStates(t, db, c, value); got != want {
					t.Errorf("states of %s:\n got %s\nwant %s", value, got, want)
				}
			}
			for value, want := range tc.flags {
				if got := bulkContactRow(t, db, c, value); got != want {
					t.Errorf("contact of %s: %s, want %s", value, got, want)
				}
			}
			for key, want := range tc.checks {
				value, channel, _ := strings.Cut(key, " ")
				if got := bulkCheck(t, db, c, value, channel); got != want {
					t.Errorf("check %s on %s: %s, want %s", value, channel, got, want)
				}
			}
		})
	}
}

// A batch larger than the portable path's 500-row chunks, and its re-run.
func TestBulkOptOutsManyRows(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	c := mustCustomer(t, db, "bulk-many")
	known := bulkContact(t, db, c, models.SyntheticPhone(7))
	var rows []imports.BulkOptOut
	for i := range 1200 {
		rows = append(rows, bulkRow(models.SyntheticPhone(i), "all", fmt.Sprintf("line:%d", i), -i))
	}
	if got, want := runBulk(t, db, c, rows), (imports.BulkResult{Applied: 1200, ContactsCreated: 1199}); got != want {
		t.Errorf("first run: %+v, want %+v", got, want)
	}
	if got, want := runBulk(t, db, c, rows), (imports.BulkResult{Unchanged: 1200}); got != want {
		t.Errorf("re-run: %+v, want %+v", got, want)
	}
	for _, i := range []int{0, 7, 499, 500, 1199} {
		if got, want := bulkStates(t, db, c, models.SyntheticPhone(i)), fmt.Sprintf(
			"facetime:suppressed/opt_out/%d/line:%d imessage:suppressed/opt_out/%d/line:%d", -i, i, -i, i); got != want {
			t.Errorf("states of row %d: %s, want %s", i, got, want)
		}
	}
	got, err := db.Contact(context.Background(), modeltest.Staff, known.ID)
	if err != nil || !got.Suppressed {
		t.Errorf("the known contact: %+v %v", got, err)
	}
	var contacts int64
	if err := db.Gorm.Model(&consent.Contact{}).Where("customer_id = ?", c.ID).Count(&contacts).Error; err != nil || contacts != 1200 {
		t.Errorf("%d contacts, want 1200 (%v)", contacts, err)
	}
}

// A batch whose transaction rolls back leaves nothing behind (on
// PostgreSQL not even its staging table, created in that transaction),
// and the next batch runs as if it had never been.
func TestBulkOptOutsRolledBackBatchLeavesNothing(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	c := mustCustomer(t, db, "bulk-rollback")
	rows := []imports.BulkOptOut{bulkRow(bulkP1, "all", "k1", 0), bulkRow(bulkE1, "imessage", "k2", 1)}
	abort := errors.New("abort")
	for range 2 {
		err := db.Tx(context.Background(), modeltest.Staff, func(tx *store.Tx) error {
			if res, err := imports.BulkOptOuts(tx, c.ID, "csv_import", rows); err != nil || res.Applied != 2 {
				t.Errorf("in the aborted transaction: %+v %v", res, err)
			}
			return abort
		})
		if !errors.Is(err, abort) {
			t.Fatal(err)
		}
	}
	if got := bulkContactRow(t, db, c, bulkP1); got != "none" {
		t.Errorf("after the rollback: %s", got)
	}
	if got, want := runBulk(t, db, c, rows), (imports.BulkResult{Applied: 2, ContactsCreated: 2}); got != want {
		t.Errorf("after the rollback: %+v, want %+v", got, want)
	}
	// Two batches in one transaction: the second sees the first.
	err := db.Tx(context.Background(), modeltest.Staff, func(tx *store.Tx) error {
		for i, want := range []imports.BulkResult{{Applied: 1, ContactsCreated: 1}, {Unchanged: 1}} {
			res, err := imports.BulkOptOuts(tx, c.ID, "csv_import", []imports.BulkOptOut{bulkRow(bulkP2, "all", "k3", 2)})
			if err != nil || res != want {
				t.Errorf("batch %d of one transaction: %+v %v, want %+v", i+1, res, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// An erased person's identifier in an opt-out list gets a contact kept
// suppressed for erasure, as any re-created contact does; the row is then
// in effect already.
func TestBulkOptOutsKeepAnErasedPersonErased(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	subject(t, db, acme)
	r := instructed(t, db, calendar.TypeErasure, []string{janePhone})
	if _, err := db.EraseSubject(ctx, modeltest.Staff, r.ID); err != nil {
		t.Fatal(err)
	}
	got := runBulk(t, db, acme, []imports.BulkOptOut{bulkRow(janePhone, "all", "k1", 0), bulkRow(bulkP1, "all", "k2", 0)})
	if want := (imports.BulkResult{Applied: 1, Unchanged: 1, ContactsCreated: 2}); got != want {
		t.Errorf("%+v, want %+v", got, want)
	}
	if s := bulkCheck(t, db, acme, janePhone, "imessage"); !strings.HasPrefix(s, consent.ReasonErasure+"/") {
		t.Errorf("the erased person: %s, want erasure", s)
	}
	if s := bulkContactRow(t, db, acme, janePhone); s != "suppressed=true restricted=false events=1" {
		t.Errorf("the erased person's new contact: %s", s)
	}
	if s := bulkCheck(t, db, acme, bulkP1, "imessage"); s != "opt_out/0" {
		t.Errorf("the other row: %s", s)
	}
}
