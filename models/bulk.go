package models

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"
)

// BulkOptOut is one row of a bulk opt-out (a CSV import batch).
type BulkOptOut struct {
	Identifier     Identifier
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
// The rules are RecordConsent's: unknown identifiers get a contact, rows
// already in effect or already imported change nothing, and the lookup is
// the fold of each contact's ledger. One audit entry covers the batch.
func (t *Tx) BulkOptOuts(customerID, source string, rows []BulkOptOut) (BulkResult, error) {
	var res BulkResult
	if len(rows) == 0 {
		return res, nil
	}
	now := Now()
	// 1. Rows whose idempotency key was already imported are done.
	keys := make([]string, 0, len(rows))
	for _, r := range rows {
		if r.IdempotencyKey != "" {
			keys = append(keys, r.IdempotencyKey)
		}
	}
	seenKeys := map[string]bool{}
	for _, part := range chunk(keys, 500) {
		var found []string
		if err := t.G.Model(&ConsentEvent{}).Where("customer_id = ? AND idempotency_key IS NOT NULL AND idempotency_key IN ?", customerID, part).
			Pluck("idempotency_key", &found).Error; err != nil {
			return res, fmt.Errorf("check imported rows: %w", err)
		}
		for _, k := range found {
			seenKeys[k] = true
		}
	}
	// 2. Find the contacts of the identifiers; create the missing ones.
	values := make([]string, 0, len(rows))
	for _, r := range rows {
		values = append(values, r.Identifier.Value)
	}
	contactOf := map[string]string{}
	for _, part := range chunk(values, 500) {
		var found []ContactIdentifier
		if err := t.G.Where("customer_id = ? AND value IN ?", customerID, part).Find(&found).Error; err != nil {
			return res, fmt.Errorf("find contacts: %w", err)
		}
		for _, ci := range found {
			contactOf[ci.Value] = ci.ContactID
		}
	}
	var newContacts []Contact
	var newIdents []ContactIdentifier
	fresh := map[string]bool{} // contacts created in this batch
	for _, r := range rows {
		if seenKeys[r.IdempotencyKey] {
			continue
		}
		if _, ok := contactOf[r.Identifier.Value]; ok {
			continue
		}
		id := uuid.Must(uuid.NewV7()).String()
		contactOf[r.Identifier.Value] = id
		fresh[id] = true
		newContacts = append(newContacts, Contact{CustomerID: customerID, ID: id, CreatedAt: now, UpdatedAt: now})
		newIdents = append(newIdents, ContactIdentifier{CustomerID: customerID, Value: r.Identifier.Value, Kind: r.Identifier.Kind, ContactID: id, CreatedAt: now})
	}
	if len(newContacts) > 0 {
		if err := t.G.CreateInBatches(newContacts, 500).Error; err != nil {
			return res, fmt.Errorf("create contacts: %w", err)
		}
		if err := t.G.CreateInBatches(newIdents, 500).Error; err != nil {
			return res, fmt.Errorf("create identifiers: %w", err)
		}
	}
	res.ContactsCreated = len(newContacts)
	// 3. Current states of the existing contacts decide what is already in effect.
	existing := []string{}
	for _, id := range contactOf {
		if !fresh[id] {
			existing = append(existing, id)
		}
	}
	states := map[string]map[string]bool{} // contact → channel → suppressed
	for _, part := range chunk(existing, 500) {
		var found []ConsentState
		if err := t.G.Where("customer_id = ? AND contact_id IN ?", customerID, part).Find(&found).Error; err != nil {
			return res, fmt.Errorf("read consent states: %w", err)
		}
		for _, s := range found {
			if states[s.ContactID] == nil {
				states[s.ContactID] = map[string]bool{}
			}
			states[s.ContactID][s.Channel] = s.Suppressed
		}
	}
	// 4. Append the events that change something.
	var events []ConsentEvent
	touched := map[string]bool{}
	for _, r := range rows {
		contact := contactOf[r.Identifier.Value]
		if seenKeys[r.IdempotencyKey] || contact == "" {
			res.Unchanged++
			continue
		}
		already := true
		for _, ch := range channelsOf(r.Channel) {
			if !states[contact][ch] {
				already = false
			}
		}
		if already {
			res.Unchanged++
			continue
		}
		if states[contact] == nil {
			states[contact] = map[string]bool{}
		}
		for _, ch := range channelsOf(r.Channel) {
			states[contact][ch] = true
		}
		ev := ConsentEvent{CustomerID: customerID, ID: uuid.Must(uuid.NewV7()).String(), ContactID: contact,
			Identifier: r.Identifier.Value, Channel: r.Channel, Kind: OptOut, Reason: ReasonOptOut, Source: source,
			Evidence: r.Evidence, ActorType: t.Actor.Type, ActorID: t.Actor.ID, ActorLabel: t.Actor.Label,
			OccurredAt: r.OccurredAt.UTC().Truncate(time.Microsecond), RecordedAt: now}
		if r.IdempotencyKey != "" {
			k := r.IdempotencyKey
			ev.IdempotencyKey = &k
			seenKeys[k] = true
		}
		events = append(events, ev)
		touched[contact] = true
	}
	if len(events) > 0 {
		if err := t.G.CreateInBatches(events, 500).Error; err != nil {
			return res, fmt.Errorf("append consent events: %w", err)
		}
	}
	res.Applied = len(events)
	// 5. Refresh the lookup: new contacts' state is their events' fold, as is
	// every touched contact's; only contacts with older history need their
	// ledger read back.
	byContact := map[string][]ConsentEvent{}
	for _, e := range events {
		byContact[e.ContactID] = append(byContact[e.ContactID], e)
	}
	var withHistory []string
	for c := range touched {
		if !fresh[c] {
			withHistory = append(withHistory, c)
		}
	}
	// The whole ledger of a contact with history, this batch's events included.
	for _, c := range withHistory {
		byContact[c] = nil
	}
	for _, part := range chunk(withHistory, 500) {
		var old []ConsentEvent
		if err := t.G.Where("customer_id = ? AND contact_id IN ?", customerID, part).Find(&old).Error; err != nil {
			return res, fmt.Errorf("read consent ledger: %w", err)
		}
		for _, e := range old {
			byContact[e.ContactID] = append(byContact[e.ContactID], e)
		}
	}
	var newStates []ConsentState
	var suppressed, notSuppressed []string
	for c, evs := range byContact {
		any := false
		for _, ch := range Channels {
			s, ok := foldConsent(evs, ch, time.Time{})
			if !ok {
				continue
			}
			s.CustomerID, s.ContactID = customerID, c
			newStates = append(newStates, s)
			any = any || s.Suppressed
		}
		if any {
			suppressed = append(suppressed, c)
		} else {
			notSuppressed = append(notSuppressed, c)
		}
	}
	if len(newStates) > 0 {
		if err := t.G.Clauses(clause.OnConflict{UpdateAll: true}).CreateInBatches(newStates, 500).Error; err != nil {
			return res, fmt.Errorf("write consent states: %w", err)
		}
	}
	// An opt-out dated before a later opt-in leaves the contact reachable:
	// the flag follows the fold either way.
	for flag, list := range map[bool][]string{true: suppressed, false: notSuppressed} {
		for _, part := range chunk(list, 500) {
			if err := t.G.Model(&Contact{}).Where("customer_id = ? AND id IN ?", customerID, part).
				Updates(map[string]any{"suppressed": flag, "updated_at": now}).Error; err != nil {
				return res, fmt.Errorf("flag contacts: %w", err)
			}
		}
	}
	return res, nil
}

func chunk[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}
