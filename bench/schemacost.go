package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The schema what-if (--only schema, PostgreSQL): what an opt-out of an
// unknown identifier costs to store under the schema as migrated and under
// changes to it that DESIGN §7's "≤ 10× a bare-table COPY" would call for,
// each against the bare-table COPY of the same run. It COPYs --csv-rows
// synthetic opt-outs, the rows the CSV import writes for each (a contact,
// its identifier, a ledger event, the channel state, a webhook event),
// into a fresh database per variant, in one transaction, rounds alternating
// the variants. No variant is the console's schema but the first: the
// others are questions for planning (what dropping a foreign key or a
// table would buy), measured so the answer is a figure, not a guess.

// schemaVariant is one way of storing the opt-outs.
type schemaVariant struct {
	name string
	// alter is applied to the freshly migrated database before the COPY.
	alter string
	// states says where the channel state goes: "per-channel" (a
	// consent_states row per channel, as migrated), "per-contact" (one
	// consent_states row, channel 'all'), or "contact" (columns on the
	// contact row; no consent_states row).
	states string
}

var schemaVariants = []schemaVariant{
	{name: "as migrated: two channel-state rows per opt-out", states: "per-channel"},
	{name: "one channel-state row per opt-out", states: "per-contact"},
	{name: "the state on the contact row (no consent_states rows)", states: "contact", alter: stateOnContact},
	{name: "no foreign key to customers (contacts, webhook_events)", states: "per-channel", alter: noCustomerKeys},
	{name: "the state on the contact row and no foreign key to customers", states: "contact", alter: stateOnContact + noCustomerKeys},
	{name: "no foreign keys at all (a reference, not a proposal)", states: "per-channel", alter: noForeignKeys},
}

// stateOnContact moves the state to the contact row, with the trigger that
// tells the suppression index, as consent_states' does. One set of state
// columns: these opt-outs cover every channel; a real schema would hold a
// set per channel, a few more bytes a row. contact_identifiers' trigger
// still probes the (empty) consent_states where it would probe contacts.
const stateOnContact = `ALTER TABLE contacts ADD COLUMN state_reason TEXT NOT NULL DEFAULT '',
	ADD COLUMN state_since TIMESTAMPTZ, ADD COLUMN state_event_id UUID;
	CREATE FUNCTION what_if_contact_states() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO suppression_changes (kind, customer_id, contact_id)
			SELECT 'contact', customer_id, id FROM new_rows WHERE state_since IS NOT NULL;
		PERFORM pg_notify('suppression_changes', '');
		RETURN NULL;
	END $$;
	CREATE TRIGGER contacts_states_inserted AFTER INSERT ON contacts REFERENCING NEW TABLE AS new_rows
		FOR EACH STATEMENT EXECUTE FUNCTION what_if_contact_states();`

const noCustomerKeys = `ALTER TABLE contacts DROP CONSTRAINT contacts_customer_id_fkey;
	ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_customer_id_fkey;`

const noForeignKeys = noCustomerKeys + `
	ALTER TABLE contact_identifiers DROP CONSTRAINT contact_identifiers_customer_id_contact_id_fkey;
	ALTER TABLE consent_events DROP CONSTRAINT consent_events_customer_id_contact_id_fkey;
	ALTER TABLE consent_states DROP CONSTRAINT consent_states_customer_id_contact_id_fkey;`

// schemaRounds is how many times each variant is measured; the table
// gives the median.
const schemaRounds = 3

// benchSchema measures each variant schemaRounds times, alternating, each
// round beside a bare-table COPY of the same rows. The rows are written to
// files first, in COPY's text format, so that what is timed is the
// server's work, as in the same-schema COPY, not this program's encoding.
func (b *bench) benchSchema(ctx context.Context, t *target) error {
	n := b.o.csvRows
	template, err := b.freshDatabase(ctx)
	if err != nil {
		return err
	}
	b.logf("%s: schema what-if: writing %d opt-outs' rows to files", t.name, n)
	files, err := writeWhatIfRows(b.dir, n)
	if err != nil {
		return err
	}
	bare := make([]float64, 0, schemaRounds)
	took := make([][]float64, len(schemaVariants))
	for round := range schemaRounds {
		b.logf("%s: schema what-if, round %d of %d: COPY of %d opt-out rows into a bare table", t.name, round+1, schemaRounds, n)
		base, err := importCopy(ctx, t.dsn, n)
		if err != nil {
			return err
		}
		bare = append(bare, base.Seconds)
		for v, sv := range schemaVariants {
			b.logf("%s: schema what-if, round %d: %s", t.name, round+1, sv.name)
			s, err := b.copyVariant(ctx, template, sv, files)
			if err != nil {
				return fmt.Errorf("%s: %w", sv.name, err)
			}
			took[v] = append(took[v], s)
		}
	}
	baseMedian := median(bare)
	for v, sv := range schemaVariants {
		m := median(took[v])
		b.add(row{t.label(fmt.Sprintf("schema what-if, %s opt-outs of unknown identifiers COPYed in one transaction: %s", count(n), sv.name)),
			fmt.Sprintf("COPY into a bare table: %.1f s (median of %s)", baseMedian, secondsList(bare)),
			fmt.Sprintf("%.1f s (median of %s)", m, secondsList(took[v])),
			fmt.Sprintf("%.2f×", m/baseMedian), "— (the CSV import adds its own work to this)", "—"})
	}
	b.notes = append(b.notes, fmt.Sprintf("%s: the schema what-if COPYs synthetic rows shaped as the CSV import's (a contact, its identifier, a "+
		"ledger event, the channel state, a webhook event per opt-out) into a fresh migrated database per variant, with the variant's change "+
		"applied first; only the first variant is the console's schema. The CSV import's own work beyond such a COPY is its ratio to the "+
		"same-schema COPY (--only import).", t.name))
	return nil
}

// whatIfCustomer owns the what-if's rows.
const whatIfCustomer = "01900000-0000-7000-8000-00000000c0de"

// whatIfFile is one table's rows in COPY's text format.
type whatIfFile struct {
	table string
	cols  []string
	path  string
}

// whatIfFiles are the files of the what-if, by name.
type whatIfFiles map[string]whatIfFile

// writeWhatIfRows writes the rows of n opt-outs of unknown identifiers, as
// the CSV import writes them, once for every variant.
func writeWhatIfRows(dir string, n int) (whatIfFiles, error) {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	files := whatIfFiles{
		"contacts":       {"contacts", []string{"customer_id", "id", "suppressed", "created_at", "updated_at"}, ""},
		"contacts+state": {"contacts", []string{"customer_id", "id", "suppressed", "created_at", "updated_at", "state_reason", "state_since", "state_event_id"}, ""},
		"identifiers":    {"contact_identifiers", []string{"customer_id", "value", "kind", "contact_id", "created_at"}, ""},
		"events": {"consent_events", []string{"customer_id", "id", "contact_id", "identifier", "channel", "kind", "reason", "source",
			"evidence", "actor_type", "actor_id", "actor_label", "occurred_at", "recorded_at", "idempotency_key"}, ""},
		"states per channel": {"consent_states", []string{"customer_id", "contact_id", "channel", "suppressed", "reason", "since", "event_id"}, ""},
		"states per contact": {"consent_states", []string{"customer_id", "contact_id", "channel", "suppressed", "reason", "since", "event_id"}, ""},
		"webhook events":     {"webhook_events", []string{"id", "customer_id", "type", "contact_id", "payload", "created_at"}, ""},
	}
	writers := map[string]*bufio.Writer{}
	var closers []*os.File
	for name, f := range files {
		f.path = filepath.Join(dir, "what-if-"+strings.ReplaceAll(name, " ", "-")+".tsv")
		files[name] = f
		fh, err := os.Create(f.path)
		if err != nil {
			return nil, err
		}
		closers = append(closers, fh)
		writers[name] = bufio.NewWriterSize(fh, 1<<20)
	}
	for i := range n {
		r := optOutRow(i, rowsBase)
		contact, event := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
		at := r.OccurredAt.Format(time.RFC3339Nano)
		fmt.Fprintf(writers["contacts"], "%s\t%s\tt\t%s\t%s\n", whatIfCustomer, contact, now, now)
		fmt.Fprintf(writers["contacts+state"], "%s\t%s\tt\t%s\t%s\topt_out\t%s\t%s\n", whatIfCustomer, contact, now, now, at, event)
		fmt.Fprintf(writers["identifiers"], "%s\t%s\t%s\t%s\t%s\n", whatIfCustomer, r.Identifier.Value, r.Identifier.Kind, contact, now)
		fmt.Fprintf(writers["events"], "%s\t%s\t%s\t%s\t%s\topt_out\topt_out\timport\t%s\tsystem\timport:what-if\tCSV import (what-if)\t%s\t%s\t%s\n",
			whatIfCustomer, event, contact, r.Identifier.Value, r.Channel, r.Evidence, at, now, r.IdempotencyKey)
		for _, ch := range []string{"imessage", "facetime"} {
			fmt.Fprintf(writers["states per channel"], "%s\t%s\t%s\tt\topt_out\t%s\t%s\n", whatIfCustomer, contact, ch, at, event)
		}
		fmt.Fprintf(writers["states per contact"], "%s\t%s\tall\tt\topt_out\t%s\t%s\n", whatIfCustomer, contact, at, event)
		payload := fmt.Sprintf(`{"data":{"channel":%q,"consent_event_id":%q,"contact_id":%q,"crm_id":"","identifiers":[%q],"occurred_at":%q,"reason":"opt_out","source":"import"},"timestamp":%q,"type":"consent.opted_out"}`,
			r.Channel, event, contact, r.Identifier.Value, at, now)
		fmt.Fprintf(writers["webhook events"], "msg_%s\t%s\tconsent.opted_out\t%s\t%s\t%s\n", strings.ReplaceAll(event, "-", ""), whatIfCustomer, contact, payload, now)
	}
	var errs []error
	for _, w := range writers {
		errs = append(errs, w.Flush())
	}
	for _, fh := range closers {
		errs = append(errs, fh.Close())
	}
	return files, errors.Join(errs...)
}

// copyVariant makes a fresh database from template, applies the variant
// and times the COPY of the opt-outs' rows into it, in one transaction.
func (b *bench) copyVariant(ctx context.Context, template string, sv schemaVariant, files whatIfFiles) (float64, error) {
	tu, err := url.Parse(template)
	if err != nil {
		return 0, err
	}
	admin, err := pgx.Connect(ctx, b.o.pgURL)
	if err != nil {
		return 0, err
	}
	defer admin.Close(ctx)
	name := "console_bench_" + randomHex(4) + "_variant"
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+strings.TrimPrefix(tu.Path, "/")); err != nil {
		return 0, fmt.Errorf("create database: %w", err)
	}
	defer admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	u := *tu
	u.Path = "/" + name
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	if sv.alter != "" {
		if _, err := conn.Exec(ctx, sv.alter); err != nil {
			return 0, fmt.Errorf("alter: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO customers (id, slug, name, created_at, updated_at) VALUES ($1, 'what-if', 'What if', now(), now())`,
		whatIfCustomer); err != nil {
		return 0, fmt.Errorf("customer: %w", err)
	}
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		return 0, err
	}
	order := []string{"contacts", "identifiers", "events", "states per channel", "webhook events"}
	switch sv.states {
	case "per-contact":
		order[3] = "states per contact"
	case "contact":
		order = []string{"contacts+state", "identifiers", "events", "webhook events"}
	}
	start := time.Now()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.Background())
	for _, name := range order {
		f := files[name]
		fh, err := os.Open(f.path)
		if err != nil {
			return 0, err
		}
		_, err = tx.Conn().PgConn().CopyFrom(ctx, bufio.NewReaderSize(fh, 1<<20),
			"COPY "+f.table+" ("+strings.Join(f.cols, ", ")+") FROM STDIN")
		fh.Close()
		if err != nil {
			return 0, fmt.Errorf("copy into %s: %w", f.table, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	return time.Since(start).Seconds(), nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func secondsList(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.1f", x)
	}
	return strings.Join(parts, ", ") + " s"
}
