package imports

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	consent "github.com/sendara/console/models/consent"

	store "github.com/sendara/console/models/store"
	"gorm.io/gorm/clause"
)

// BulkOptOut is one row of a bulk opt-out (a CSV import batch).
type BulkOptOut struct {
	Identifier     store.Identifier
	Channel        string // imessage, facetime or all
	Evidence       string
	OccurredAt     time.Time
	IdempotencyKey string // unique per customer: a re-run of the row is a no-op
}

// BulkResult counts what a batch did.
type BulkResult struct {
	Applied         int // rows that appended a ledger event
	Unchanged       int // rows already in effect or already imported
	ContactsCreated int
}

// BulkOptOuts records a batch of opt-outs for customerID with set-based
// statements: a handful of queries per batch instead of several per row.
// The outcome is RecordConsent's for each row in turn:
//
//   - a row whose idempotency key is in the ledger changes nothing and
//     creates no contact; within the batch a key names one row, so later
//     rows repeating it are no-ops too;
//   - an unknown identifier gets a new contact (kept suppressed for erasure
//     if its person was erased, as insertContact does);
//   - a row the contact's state already covers (suppressed on every channel
//     it names, after the rows before it) changes nothing;
//   - any other row appends an opt-out to the ledger, and the lookup
//     (consent_states, contacts.suppressed) is the fold of the contact's
//     whole ledger, so an opt-out dated before a later opt-in leaves the
//     contact reachable.
//
// PostgreSQL does this in a few statements over a staging table
// (bulk_postgres.go); SQLite in Go. Either way each appended opt-out
// emits consent.opted_out (webhook deliveries and the changes feed) in
// the same transaction, as a single opt-out does. The caller writes one
// audit entry for the batch.
func BulkOptOuts(t *store.Tx, customerID, source string, rows []BulkOptOut) (BulkResult, error) {
	var res BulkResult
	if len(rows) == 0 {
		return res, nil
	}
	todo, err := firstOfEachKey(rows)
	if err != nil {
		return res, err
	}
	res.Unchanged = len(rows) - len(todo)
	if t.Dialect == store.Postgres {
		r, err := bulkOptOutsPostgres(t, customerID, source, todo)
		r.Unchanged += res.Unchanged
		return r, err
	}
	r, err := bulkOptOutsGo(t, customerID, source, todo)
	r.Unchanged += res.Unchanged
	return r, err
}

// bulkRow is a row of the batch that is still to be decided.
type bulkRow struct {
	BulkOptOut
	ord int // its position among the rows to decide: batch order
}

// firstOfEachKey normalizes the rows and keeps, of rows sharing an
// idempotency key, the first: the key names one row, and the others repeat
// it.
func firstOfEachKey(rows []BulkOptOut) ([]bulkRow, error) {
	now := store.Now()
	out := make([]bulkRow, 0, len(rows))
	keys := make(map[string]bool, len(rows))
	for _, r := range rows {
		if r.IdempotencyKey != "" {
			if keys[r.IdempotencyKey] {
				continue
			}
			keys[r.IdempotencyKey] = true
		}
		ch, err := consent.ParseChannel(r.Channel)
		if err != nil {
			return nil, err
		}
		r.Channel = ch
		if r.OccurredAt.IsZero() {
			r.OccurredAt = now
		}
		r.OccurredAt = r.OccurredAt.UTC().Truncate(time.Microsecond)
		out = append(out, bulkRow{BulkOptOut: r, ord: len(out)})
	}
	return out, nil
}

// bulkOptOutsGo is the portable path, used for SQLite: lookups in chunks,
// the decision in Go.
func bulkOptOutsGo(t *store.Tx, customerID, source string, rows []bulkRow) (BulkResult, error) {
	var res BulkResult
	now := store.Now()
	// 1. Rows whose idempotency key was already imported are done.
	keys := make([]string, 0, len(rows))
	for _, r := range rows {
		if r.IdempotencyKey != "" {
			keys = append(keys, r.IdempotencyKey)
		}
	}
	seen, err := consent.ImportedKeys(t, customerID, keys)
	if err != nil {
		return res, err
	}
	todo := rows[:0:0]
	for _, r := range rows {
		if r.IdempotencyKey != "" && seen[r.IdempotencyKey] {
			res.Unchanged++
			continue
		}
		todo = append(todo, r)
	}
	// 2. Find the contacts of the identifiers; create the missing ones.
	values := make([]string, 0, len(todo))
	for _, r := range todo {
		values = append(values, r.Identifier.Value)
	}
	contactOf := map[string]string{}
	for _, part := range store.Chunk(values, 500) {
		var found []consent.ContactIdentifier
		if err := t.G.Where("customer_id = ? AND value IN ?", customerID, part).Find(&found).Error; err != nil {
			return res, fmt.Errorf("find contacts: %w", err)
		}
		for _, ci := range found {
			contactOf[ci.Value] = ci.ContactID
		}
	}
	var newContacts []consent.Contact
	var newIdents []consent.ContactIdentifier
	for _, r := range todo {
		if _, ok := contactOf[r.Identifier.Value]; ok {
			continue
		}
		id := uuid.Must(uuid.NewV7()).String()
		contactOf[r.Identifier.Value] = id
		newContacts = append(newContacts, consent.Contact{CustomerID: customerID, ID: id, CreatedAt: now, UpdatedAt: now})
		newIdents = append(newIdents, consent.ContactIdentifier{CustomerID: customerID, Value: r.Identifier.Value, Kind: r.Identifier.Kind, ContactID: id, CreatedAt: now})
	}
	if len(newContacts) > 0 {
		if err := t.G.Create(newContacts).Error; err != nil {
			return res, fmt.Errorf("create contacts: %w", err)
		}
		if err := t.G.Create(newIdents).Error; err != nil {
			return res, store.UniqueViolation(fmt.Errorf("create identifiers: %w", err), "identifiers",
				"an identifier of this batch was added to another contact meanwhile: retry")
		}
		if err := consent.SuppressErased(t, customerID, newIdents); err != nil {
			return res, err
		}
	}
	res.ContactsCreated = len(newContacts)
	// 3. Every contact's ledger so far (an erased person's new contact has
	// one already), then the decision, row by row.
	ids := make([]string, 0, len(contactOf))
	for _, id := range contactOf {
		ids = append(ids, id)
	}
	ledgers, err := ledgers(t, customerID, ids)
	if err != nil {
		return res, err
	}
	cands := make([]consent.ConsentEvent, len(todo))
	for i, r := range todo {
		cands[i] = consent.ConsentEvent{CustomerID: customerID, ID: uuid.Must(uuid.NewV7()).String(), ContactID: contactOf[r.Identifier.Value],
			Identifier: r.Identifier.Value, Channel: r.Channel, Kind: consent.OptOut, Reason: consent.ReasonOptOut, Source: source,
			Evidence: r.Evidence, ActorType: t.Actor.Type, ActorID: t.Actor.ID, ActorLabel: t.Actor.Label,
			OccurredAt: r.OccurredAt, RecordedAt: now}
		if r.IdempotencyKey != "" {
			k := r.IdempotencyKey
			cands[i].IdempotencyKey = &k
		}
	}
	plan, err := planBulk(customerID, ledgers, cands)
	if err != nil {
		return res, err
	}
	var events []consent.ConsentEvent
	for i, ok := range plan.appends {
		if ok {
			events = append(events, cands[i])
		}
	}
	res.Applied = len(events)
	res.Unchanged += len(todo) - len(events)
	// 4. Write the events and the lookup.
	if len(events) > 0 {
		if err := t.G.Create(events).Error; err != nil {
			return res, fmt.Errorf("append consent events: %w", err)
		}
	}
	if err := writeFolds(t, customerID, plan, now); err != nil {
		return res, err
	}
	return res, bulkOptOutEvents(t, customerID, events)
}

// ledgers reads the consent ledgers of contacts of customerID.
func ledgers(t *store.Tx, customerID string, contacts []string) (map[string][]consent.ConsentEvent, error) {
	out := make(map[string][]consent.ConsentEvent, len(contacts))
	for _, part := range store.Chunk(contacts, 500) {
		var evs []consent.ConsentEvent
		if err := t.G.Where("customer_id = ? AND contact_id IN ?", customerID, part).Find(&evs).Error; err != nil {
			return nil, fmt.Errorf("read consent ledger: %w", err)
		}
		for _, e := range evs {
			out[e.ContactID] = append(out[e.ContactID], e)
		}
	}
	return out, nil
}

// bulkPlan is what a batch does to the contacts it touches.
type bulkPlan struct {
	appends []bool                 // per candidate event: appended
	states  []consent.ConsentState // the fold of each touched contact's ledger
	flags   map[string]contactFlags
}

// contactFlags are a contact's flags that follow its fold.
type contactFlags struct{ suppressed, restricted bool }

// planBulk decides candidate opt-outs in batch order as RecordConsent
// would, one at a time: DecideConsent on the fold of the contact's ledger
// so far (with the batch's earlier appends). ledgers holds the contacts' events before the batch; a
// candidate needs ContactID, ID, Channel, Kind, Reason, OccurredAt and
// RecordedAt. Each touched contact's state is then the fold of its whole
// ledger, batch events last among equal times, in batch order.
func planBulk(customerID string, ledgers map[string][]consent.ConsentEvent, cands []consent.ConsentEvent) (bulkPlan, error) {
	p := bulkPlan{appends: make([]bool, len(cands)), flags: map[string]contactFlags{}}
	var touched []string
	grown := map[string][]consent.ConsentEvent{}
	for i, ev := range cands {
		c := ev.ContactID
		ledger, ok := grown[c]
		if !ok {
			ledger = ledgers[c]
		}
		appends, err := consent.DecideConsent(consent.ConsentStanding(ledger), consent.ConsentChange{Kind: ev.Kind, Reason: ev.Reason, Channel: ev.Channel, OccurredAt: ev.OccurredAt})
		if err != nil {
			return p, err
		}
		if !appends {
			continue
		}
		if _, ok := grown[c]; !ok {
			touched = append(touched, c)
			// A copy: the caller's ledger is not grown behind its back.
			ledger = append(ledger[:len(ledger):len(ledger)], ev)
		} else {
			ledger = append(ledger, ev)
		}
		grown[c] = ledger
		p.appends[i] = true
	}
	for _, c := range touched {
		var f contactFlags
		for _, ch := range consent.Channels {
			s, ok := consent.FoldConsent(grown[c], ch, time.Time{})
			if !ok {
				continue
			}
			s.CustomerID, s.ContactID = customerID, c
			p.states = append(p.states, s)
			f.suppressed = f.suppressed || s.Suppressed
			f.restricted = f.restricted || (s.Suppressed && s.Reason == consent.ReasonRestriction)
		}
		p.flags[c] = f
	}
	return p, nil
}

// writeFolds writes the plan's lookup rows and contact flags, as
// refreshStates does for one contact.
func writeFolds(t *store.Tx, customerID string, p bulkPlan, now time.Time) error {
	if len(p.states) > 0 {
		if err := t.G.Clauses(clause.OnConflict{UpdateAll: true}).Create(p.states).Error; err != nil {
			return fmt.Errorf("write consent states: %w", err)
		}
	}
	byFlags := map[contactFlags][]string{}
	for c, f := range p.flags {
		byFlags[f] = append(byFlags[f], c)
	}
	for f, list := range byFlags {
		for _, part := range store.Chunk(list, 500) {
			if err := t.G.Model(&consent.Contact{}).Where("customer_id = ? AND id IN ?", customerID, part).
				Updates(map[string]any{"suppressed": f.suppressed, "restricted": f.restricted, "updated_at": now}).Error; err != nil {
				return fmt.Errorf("flag contacts: %w", err)
			}
		}
	}
	return nil
}
