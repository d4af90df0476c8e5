package imports

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	consent "github.com/sendara/console/models/consent"

	errs "github.com/sendara/console/models/errs"

	store "github.com/sendara/console/models/store"
)

// bulkStaging holds a batch's rows on the server. It lives as long as the
// session and is emptied at every commit; the DELETE covers a second
// batch in the same transaction.
const bulkStaging = `CREATE TEMP TABLE IF NOT EXISTS bulk_opt_out_rows (
	ord             INTEGER NOT NULL,
	value           TEXT NOT NULL,
	kind            TEXT NOT NULL,
	channel         TEXT NOT NULL,
	evidence        TEXT NOT NULL,
	occurred_at     TIMESTAMPTZ NOT NULL,
	idempotency_key TEXT,
	event_id        UUID NOT NULL,
	contact_id      UUID NOT NULL,
	fresh           BOOLEAN NOT NULL,
	history         BOOLEAN NOT NULL DEFAULT FALSE,
	applied         BOOLEAN NOT NULL DEFAULT FALSE
) ON COMMIT DELETE ROWS;
DELETE FROM pg_temp.bulk_opt_out_rows`

// bulkStage stages the rows whose idempotency key is not in the ledger,
// each with its identifier's contact, or the new contact's id Go chose for
// an unknown identifier (one per identifier: contact ids are UUIDv7s, in
// creation order, which the contact list pages by).
//
// The lookups are LATERAL … LIMIT 1, which the planner cannot turn into a
// hash join: with statistics older than an import's growth it would
// otherwise read the customer's whole ledger and identifier list for
// every batch.
const bulkStage = `INSERT INTO pg_temp.bulk_opt_out_rows
	(ord, value, kind, channel, evidence, occurred_at, idempotency_key, event_id, contact_id, fresh)
SELECT r.ord, r.value, r.kind, r.channel, r.evidence, r.occurred_at, r.idempotency_key, r.event_id::uuid,
	COALESCE(i.contact_id, r.new_contact::uuid), i.contact_id IS NULL
FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::text[], $10::text[])
	AS r(ord, value, kind, channel, evidence, occurred_at, idempotency_key, event_id, new_contact)
LEFT JOIN LATERAL (SELECT i.contact_id FROM contact_identifiers i
	WHERE i.customer_id = $1::uuid AND i.value = r.value LIMIT 1) i ON TRUE
LEFT JOIN LATERAL (SELECT TRUE AS seen FROM consent_events e
	WHERE e.customer_id = $1::uuid AND e.idempotency_key = r.idempotency_key LIMIT 1) k ON TRUE
WHERE k.seen IS NULL`

// bulkCreateContacts creates the contacts of unknown identifiers, with
// their identifiers. Each gets an opt-out below (its first row finds no
// state), or an erasure opt-out, so it is created suppressed. It reports
// how many, and whether the customer has anyone on its erased list.
const bulkCreateContacts = `WITH fresh AS (
	SELECT DISTINCT ON (contact_id) contact_id, value, kind
	FROM pg_temp.bulk_opt_out_rows WHERE fresh ORDER BY contact_id, ord
), new_contacts AS (
	INSERT INTO contacts (customer_id, id, suppressed, created_at, updated_at)
	SELECT $1::uuid, contact_id, TRUE, $2::timestamptz, $2::timestamptz FROM fresh ORDER BY contact_id
), new_identifiers AS (
	INSERT INTO contact_identifiers (customer_id, value, kind, contact_id, created_at)
	SELECT $1::uuid, value, kind, contact_id, $2::timestamptz FROM fresh ORDER BY value
)
SELECT count(*), EXISTS (SELECT 1 FROM erased_identifiers WHERE customer_id = $1::uuid) FROM fresh`

// bulkHistory marks the rows of contacts with a ledger already and returns
// them: those are decided in Go (planBulk), on their whole ledger. New
// contacts have none, unless suppressErased gave them one ($2). The probe
// is LATERAL … LIMIT 1 for bulkStage's reason.
const bulkHistory = `UPDATE pg_temp.bulk_opt_out_rows s SET history = TRUE
FROM (SELECT c.contact_id FROM (SELECT DISTINCT contact_id FROM pg_temp.bulk_opt_out_rows WHERE NOT fresh OR $2::boolean) c
	CROSS JOIN LATERAL (SELECT 1 FROM consent_events e
		WHERE e.customer_id = $1::uuid AND e.contact_id = c.contact_id LIMIT 1) e) h
WHERE s.contact_id = h.contact_id
RETURNING s.ord, s.contact_id::text, s.channel, s.occurred_at, s.event_id::text`

// bulkApply appends the events that change something, and writes the
// lookup of the contacts without earlier history. For those the ledger
// holds this batch's opt-outs only, so in batch order a row changes
// something exactly when no earlier row of its contact covered one of its
// channels; and foldConsent of opt-outs alone is, per channel: suppressed
// for opt_out since the earliest, by the latest (the last in batch order
// among equal times). New contacts cannot have lookup rows yet: theirs are
// plain inserts, cheaper than ON CONFLICT's speculative ones. It returns
// the events appended, in batch order, for their webhook events.
const bulkApply = `WITH decided AS (
	SELECT s.*, CASE WHEN s.history THEN s.applied ELSE
		(s.channel <> 'facetime' AND NOT COALESCE(bool_or(s.channel <> 'facetime') OVER earlier, FALSE)) OR
		(s.channel <> 'imessage' AND NOT COALESCE(bool_or(s.channel <> 'imessage') OVER earlier, FALSE)) END AS appends
	FROM pg_temp.bulk_opt_out_rows s
	WINDOW earlier AS (PARTITION BY s.contact_id ORDER BY s.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), events AS (
	INSERT INTO consent_events (customer_id, id, contact_id, identifier, channel, kind, reason, source, evidence,
		actor_type, actor_id, actor_label, occurred_at, recorded_at, idempotency_key)
	SELECT $1::uuid, event_id, contact_id, value, channel, 'opt_out', 'opt_out', $3::text, evidence,
		$4::text, $5::text, $6::text, occurred_at, $2::timestamptz, idempotency_key
	FROM decided WHERE appends ORDER BY event_id
), folded AS (
	SELECT d.contact_id, bool_and(d.fresh) AS fresh, c.channel, min(d.occurred_at) AS since,
		(array_agg(d.event_id ORDER BY d.occurred_at DESC, d.ord DESC))[1] AS event_id
	FROM decided d JOIN (VALUES ('imessage'), ('facetime')) AS c(channel) ON d.channel IN (c.channel, 'all')
	WHERE d.appends AND NOT d.history
	GROUP BY d.contact_id, c.channel
), new_states AS (
	INSERT INTO consent_states (customer_id, contact_id, channel, suppressed, reason, since, event_id)
	SELECT $1::uuid, contact_id, channel, TRUE, 'opt_out', since, event_id FROM folded WHERE fresh
	ORDER BY contact_id, channel
), states AS (
	INSERT INTO consent_states (customer_id, contact_id, channel, suppressed, reason, since, event_id)
	SELECT $1::uuid, contact_id, channel, TRUE, 'opt_out', since, event_id FROM folded WHERE NOT fresh
	ORDER BY contact_id, channel
	ON CONFLICT (customer_id, contact_id, channel) DO UPDATE
		SET suppressed = excluded.suppressed, reason = excluded.reason, since = excluded.since, event_id = excluded.event_id
), flags AS (
	-- = ANY (ARRAY …): index probes, whatever the statistics say.
	UPDATE contacts SET suppressed = TRUE, restricted = FALSE, updated_at = $2::timestamptz
	WHERE customer_id = $1::uuid AND id = ANY (ARRAY(
		SELECT DISTINCT contact_id FROM decided WHERE appends AND NOT history AND NOT fresh))
)
SELECT event_id::text, contact_id::text, channel, occurred_at, fresh, value FROM decided WHERE appends ORDER BY ord`

func bulkOptOutsPostgres(t *store.Tx, customerID, source string, rows []bulkRow) (BulkResult, error) {
	var res BulkResult
	now := store.Now()
	ctx := t.G.Statement.Context
	if ctx == nil {
		ctx = context.Background()
	}
	// Straight to the driver: gorm would expand the arrays into lists.
	conn := t.G.Statement.ConnPool

	n := len(rows)
	var (
		ords                            = make([]int32, n)
		values, kinds, channels, proofs = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ats                             = make([]time.Time, n)
		keys                            = make([]*string, n)
		eventIDs, newContacts           = make([]string, n), make([]string, n)
		candidate                       = make(map[string]string, n) // identifier → id if it is new
	)
	for i, r := range rows {
		ords[i] = int32(r.ord)
		values[i], kinds[i], channels[i], proofs[i] = r.Identifier.Value, r.Identifier.Kind, r.Channel, r.Evidence
		ats[i] = r.OccurredAt
		if r.IdempotencyKey != "" {
			keys[i] = &rows[i].IdempotencyKey
		}
		eventIDs[i] = uuid.Must(uuid.NewV7()).String()
		id, ok := candidate[r.Identifier.Value]
		if !ok {
			id = uuid.Must(uuid.NewV7()).String()
			candidate[r.Identifier.Value] = id
		}
		newContacts[i] = id
	}

	// Generic plans, from the first execution on: a custom plan is made for
	// the literal customer id, and for a customer the statistics have not
	// seen yet (any import's first batches) it expects no rows and probes
	// the indexes by customer alone, reading the whole customer for every
	// row: batches slowed from 0.3 s to 12 s until the fifth execution's
	// generic plan.
	if _, err := conn.ExecContext(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
		return res, fmt.Errorf("prepare the batch: %w", err)
	}
	if _, err := conn.ExecContext(ctx, bulkStaging); err != nil {
		return res, fmt.Errorf("prepare the staging table: %w", err)
	}
	staged, err := conn.ExecContext(ctx, bulkStage, customerID, ords, values, kinds, channels, proofs, ats, keys, eventIDs, newContacts)
	if err != nil {
		return res, fmt.Errorf("stage opt-outs: %w", err)
	}
	m, err := staged.RowsAffected()
	if err != nil {
		return res, fmt.Errorf("stage opt-outs: %w", err)
	}
	res.Unchanged = n - int(m) // already imported

	var anyErased bool
	if err := conn.QueryRowContext(ctx, bulkCreateContacts, customerID, now).Scan(&res.ContactsCreated, &anyErased); err != nil {
		return res, bulkConflict(fmt.Errorf("create contacts: %w", err))
	}
	checkErased := anyErased && res.ContactsCreated > 0
	if checkErased {
		if err := suppressErasedStaged(t, ctx, customerID); err != nil {
			return res, err
		}
	}

	plan, err := bulkDecideHistory(t, ctx, customerID, checkErased, now)
	if err != nil {
		return res, err
	}
	q, err := conn.QueryContext(ctx, bulkApply, customerID, now, source, t.Actor.Type, t.Actor.ID, t.Actor.Label)
	if err != nil {
		return res, bulkConflict(fmt.Errorf("append consent events: %w", err))
	}
	defer q.Close()
	var applied []bulkAppliedEvent
	for q.Next() {
		ev := bulkAppliedEvent{ConsentEvent: consent.ConsentEvent{CustomerID: customerID, Kind: consent.OptOut, Reason: consent.ReasonOptOut, Source: source}}
		if err := q.Scan(&ev.ID, &ev.ContactID, &ev.Channel, &ev.OccurredAt, &ev.fresh, &ev.Identifier); err != nil {
			return res, fmt.Errorf("append consent events: %w", err)
		}
		ev.OccurredAt = ev.OccurredAt.UTC()
		applied = append(applied, ev)
	}
	if err := q.Err(); err != nil {
		return res, bulkConflict(fmt.Errorf("append consent events: %w", err))
	}
	q.Close()
	res.Applied = len(applied)
	res.Unchanged += int(m) - res.Applied
	if err := writeFolds(t, customerID, plan, now); err != nil {
		return res, err
	}
	return res, bulkOptOutEventsPostgres(t, ctx, customerID, applied)
}

// suppressErasedStaged runs insertContact's erasure check on the batch's
// new identifiers: the erased list holds keyed hashes, which only Go can
// compute.
func suppressErasedStaged(t *store.Tx, ctx context.Context, customerID string) error {
	q, err := t.G.Statement.ConnPool.QueryContext(ctx,
		`SELECT DISTINCT ON (contact_id) value, kind, contact_id::text FROM pg_temp.bulk_opt_out_rows WHERE fresh ORDER BY contact_id, ord`)
	if err != nil {
		return fmt.Errorf("read new identifiers: %w", err)
	}
	defer q.Close()
	var added []consent.ContactIdentifier
	for q.Next() {
		ci := consent.ContactIdentifier{CustomerID: customerID}
		if err := q.Scan(&ci.Value, &ci.Kind, &ci.ContactID); err != nil {
			return fmt.Errorf("read new identifiers: %w", err)
		}
		added = append(added, ci)
	}
	if err := q.Err(); err != nil {
		return fmt.Errorf("read new identifiers: %w", err)
	}
	q.Close()
	return consent.SuppressErased(t, customerID, added)
}

// bulkDecideHistory decides the rows of contacts with ledger history in
// Go, on their whole ledger (planBulk), and marks the rows that append in
// the staging table. It returns the plan, whose lookup rows are written
// after the events.
func bulkDecideHistory(t *store.Tx, ctx context.Context, customerID string, freshToo bool, now time.Time) (bulkPlan, error) {
	conn := t.G.Statement.ConnPool
	q, err := conn.QueryContext(ctx, bulkHistory, customerID, freshToo)
	if err != nil {
		return bulkPlan{}, fmt.Errorf("find contacts with history: %w", err)
	}
	defer q.Close()
	type histRow struct {
		ord int
		ev  consent.ConsentEvent
	}
	var hist []histRow
	for q.Next() {
		var h histRow
		if err := q.Scan(&h.ord, &h.ev.ContactID, &h.ev.Channel, &h.ev.OccurredAt, &h.ev.ID); err != nil {
			return bulkPlan{}, fmt.Errorf("find contacts with history: %w", err)
		}
		hist = append(hist, h)
	}
	if err := q.Err(); err != nil {
		return bulkPlan{}, fmt.Errorf("find contacts with history: %w", err)
	}
	q.Close()
	if len(hist) == 0 {
		return bulkPlan{}, nil
	}
	slices.SortFunc(hist, func(a, b histRow) int { return a.ord - b.ord })
	contacts := map[string]bool{}
	cands := make([]consent.ConsentEvent, len(hist))
	for i, h := range hist {
		contacts[h.ev.ContactID] = true
		h.ev.CustomerID, h.ev.Kind, h.ev.Reason, h.ev.RecordedAt = customerID, consent.OptOut, consent.ReasonOptOut, now
		h.ev.OccurredAt = h.ev.OccurredAt.UTC()
		cands[i] = h.ev
	}
	ledgers, err := ledgers(t, customerID, slices.Collect(maps.Keys(contacts)))
	if err != nil {
		return bulkPlan{}, err
	}
	plan, err := planBulk(customerID, ledgers, cands)
	if err != nil {
		return bulkPlan{}, err
	}
	var appends []int32
	for i, ok := range plan.appends {
		if ok {
			appends = append(appends, int32(hist[i].ord))
		}
	}
	if len(appends) > 0 {
		if _, err := conn.ExecContext(ctx, `UPDATE pg_temp.bulk_opt_out_rows SET applied = TRUE WHERE ord = ANY($1::int[])`, appends); err != nil {
			return bulkPlan{}, fmt.Errorf("mark decided rows: %w", err)
		}
	}
	return plan, nil
}

// bulkConflict reports a unique violation, which only a concurrent writer
// can cause here (another import of the same identifiers or rows), as a
// conflict worth a retry.
func bulkConflict(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" {
		return &errs.ConflictError{Field: "identifiers", Message: "a row of this batch was imported or its identifier added meanwhile: retry"}
	}
	return err
}
