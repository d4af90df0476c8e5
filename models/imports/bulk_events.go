package imports

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	consent "github.com/sendara/console/models/consent"

	hooks "github.com/sendara/console/models/hooks"

	store "github.com/sendara/console/models/store"
)

// bulkOptOutEvents emits consent.opted_out for each opt-out a bulk batch
// (a CSV import) appended to the ledger, in the batch's transaction, as
// consentEvent does for a single one: the same payload, one event in the
// changes feed each, and one delivery per enabled endpoint that wants the
// type. It reads the contacts' CRM ids and identifiers in chunks and
// writes events and deliveries in batches, so an import of a million rows
// costs a few statements per 500 opt-outs, not two queries each.
func bulkOptOutEvents(t *store.Tx, customerID string, evs []consent.ConsentEvent) error {
	if len(evs) == 0 {
		return nil
	}
	var endpoints []hooks.WebhookEndpoint
	if err := t.G.Select("id", "customer_id", "event_types").Where("customer_id = ? AND enabled", customerID).Find(&endpoints).Error; err != nil {
		return fmt.Errorf("find webhook endpoints: %w", err)
	}
	endpoints = slices.DeleteFunc(endpoints, func(e hooks.WebhookEndpoint) bool { return !e.Wants(hooks.EventOptedOut) })
	for _, part := range store.Chunk(evs, 500) {
		ids := make([]string, 0, len(part))
		for _, ev := range part {
			ids = append(ids, ev.ContactID)
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		var contacts []consent.Contact
		if err := t.G.Select("id", "crm_id").Where("customer_id = ? AND id IN ?", customerID, ids).Find(&contacts).Error; err != nil {
			return fmt.Errorf("read contacts for their events: %w", err)
		}
		crm := make(map[string]string, len(contacts))
		for _, c := range contacts {
			crm[c.ID] = c.CRMID
		}
		var idents []consent.ContactIdentifier
		// Sorted here, not by the query (see contactEventData).
		if err := t.G.Select("contact_id", "value").Where("customer_id = ? AND contact_id IN ?", customerID, ids).
			Find(&idents).Error; err != nil {
			return fmt.Errorf("read identifiers for the events: %w", err)
		}
		values := make(map[string][]string, len(ids))
		for _, ci := range idents {
			values[ci.ContactID] = append(values[ci.ContactID], ci.Value)
		}
		for _, vs := range values {
			slices.Sort(vs)
		}
		rows := make([]hooks.WebhookEvent, 0, len(part))
		for _, ev := range part {
			vs := values[ev.ContactID]
			if vs == nil {
				vs = []string{}
			}
			data := map[string]any{"contact_id": ev.ContactID, "crm_id": crm[ev.ContactID], "identifiers": vs,
				"channel": ev.Channel, "source": ev.Source, "occurred_at": ev.OccurredAt.Format(time.RFC3339Nano),
				"consent_event_id": ev.ID, "reason": ev.Reason}
			we, err := hooks.NewWebhookEvent(customerID, hooks.EventOptedOut, ev.ContactID, data)
			if err != nil {
				return err
			}
			rows = append(rows, *we)
		}
		if err := t.G.Create(&rows).Error; err != nil {
			return fmt.Errorf("write %s events: %w", hooks.EventOptedOut, err)
		}
		if len(endpoints) == 0 {
			continue
		}
		deliveries := make([]hooks.WebhookDelivery, 0, len(rows)*len(endpoints))
		for i := range rows {
			if rows[i].Seq == 0 {
				return fmt.Errorf("write %s events: no sequence number came back", hooks.EventOptedOut)
			}
			deliveries = append(deliveries, hooks.DeliveryRows(&rows[i], endpoints)...)
		}
		if err := t.G.Create(deliveries).Error; err != nil {
			return fmt.Errorf("queue webhook deliveries: %w", err)
		}
	}
	return nil
}

// optedOutData is consent.opted_out's data, its fields in the order
// json.Marshal writes a map's keys: the same bytes as newWebhookEvent's
// map, without a map per event.
type optedOutData struct {
	Channel        string   `json:"channel"`
	ConsentEventID string   `json:"consent_event_id"`
	ContactID      string   `json:"contact_id"`
	CRMID          string   `json:"crm_id"`
	Identifiers    []string `json:"identifiers"`
	OccurredAt     string   `json:"occurred_at"`
	Reason         string   `json:"reason"`
	Source         string   `json:"source"`
}

type optedOutBody struct {
	Data      optedOutData `json:"data"`
	Timestamp string       `json:"timestamp"`
	Type      string       `json:"type"`
}

// bulkAppliedEvent is an opt-out the PostgreSQL batch appended, with what
// its event needs to know of a contact the batch created: that contact
// holds the row's identifier alone and no CRM id.
type bulkAppliedEvent struct {
	consent.ConsentEvent
	fresh bool
}

// bulkOptOutEventsPostgres is bulkOptOutEvents for the set-based path:
// the same events, payloads and deliveries, with one query for the
// contacts the batch did not create and one INSERT of the batch's events
// from arrays, instead of two queries and a GORM insert per 500.
func bulkOptOutEventsPostgres(t *store.Tx, ctx context.Context, customerID string, evs []bulkAppliedEvent) error {
	if len(evs) == 0 {
		return nil
	}
	conn := t.G.Statement.ConnPool
	var endpoints []hooks.WebhookEndpoint
	if err := t.G.Select("id", "customer_id", "event_types").Where("customer_id = ? AND enabled", customerID).Find(&endpoints).Error; err != nil {
		return fmt.Errorf("find webhook endpoints: %w", err)
	}
	endpoints = slices.DeleteFunc(endpoints, func(e hooks.WebhookEndpoint) bool { return !e.Wants(hooks.EventOptedOut) })

	type known struct {
		crm    string
		values []string
	}
	var older []string
	for _, ev := range evs {
		if !ev.fresh {
			older = append(older, ev.ContactID)
		}
	}
	slices.Sort(older)
	older = slices.Compact(older)
	contacts := make(map[string]known, len(older))
	if len(older) > 0 {
		q, err := conn.QueryContext(ctx, `SELECT c.id::text, c.crm_id, ARRAY(SELECT i.value FROM contact_identifiers i
			WHERE i.customer_id = c.customer_id AND i.contact_id = c.id ORDER BY i.value)
			FROM contacts c WHERE c.customer_id = $1::uuid AND c.id = ANY($2::uuid[])`, customerID, older)
		if err != nil {
			return fmt.Errorf("read contacts for their events: %w", err)
		}
		defer q.Close()
		types := pgtype.NewMap()
		for q.Next() {
			var id string
			var k known
			if err := q.Scan(&id, &k.crm, types.SQLScanner(&k.values)); err != nil {
				return fmt.Errorf("read contacts for their events: %w", err)
			}
			contacts[id] = k
		}
		if err := q.Err(); err != nil {
			return fmt.Errorf("read contacts for their events: %w", err)
		}
		q.Close()
	}

	now := store.Now()
	stamp := now.Format(time.RFC3339Nano)
	ids, contactIDs, payloads := make([]string, len(evs)), make([]string, len(evs)), make([]string, len(evs))
	for i, ev := range evs {
		k := known{values: []string{ev.Identifier}}
		if !ev.fresh {
			k = contacts[ev.ContactID]
			if k.values == nil {
				k.values = []string{}
			}
		}
		body, err := json.Marshal(optedOutBody{Type: hooks.EventOptedOut, Timestamp: stamp, Data: optedOutData{
			Channel: ev.Channel, ConsentEventID: ev.ID, ContactID: ev.ContactID, CRMID: k.crm, Identifiers: k.values,
			OccurredAt: ev.OccurredAt.Format(time.RFC3339Nano), Reason: ev.Reason, Source: ev.Source}})
		if err != nil {
			return fmt.Errorf("encode %s event: %w", hooks.EventOptedOut, err)
		}
		ids[i] = "msg_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", "")
		contactIDs[i], payloads[i] = ev.ContactID, string(body)
	}
	// In batch order: the feed and each contact's deliveries follow seq.
	q, err := conn.QueryContext(ctx, `INSERT INTO webhook_events (id, customer_id, type, contact_id, payload, created_at)
		SELECT e.id, $1::uuid, $2::text, e.contact_id::uuid, e.payload, $3::timestamptz
		FROM unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS e(id, contact_id, payload, n) ORDER BY e.n
		RETURNING id, seq`, customerID, hooks.EventOptedOut, now, ids, contactIDs, payloads)
	if err != nil {
		return fmt.Errorf("write %s events: %w", hooks.EventOptedOut, err)
	}
	defer q.Close()
	seqs := make(map[string]int64, len(evs))
	for q.Next() {
		var id string
		var seq int64
		if err := q.Scan(&id, &seq); err != nil {
			return fmt.Errorf("write %s events: %w", hooks.EventOptedOut, err)
		}
		if len(endpoints) > 0 {
			seqs[id] = seq
		}
	}
	if err := q.Err(); err != nil {
		return fmt.Errorf("write %s events: %w", hooks.EventOptedOut, err)
	}
	q.Close()
	if len(endpoints) == 0 {
		return nil
	}
	deliveries := make([]hooks.WebhookDelivery, 0, len(evs)*len(endpoints))
	for i := range evs {
		seq, ok := seqs[ids[i]]
		if !ok {
			return fmt.Errorf("write %s events: no sequence number came back", hooks.EventOptedOut)
		}
		contactID := contactIDs[i]
		deliveries = append(deliveries, hooks.DeliveryRows(&hooks.WebhookEvent{Seq: seq, ID: ids[i], CustomerID: customerID, Type: hooks.EventOptedOut,
			ContactID: &contactID, CreatedAt: now}, endpoints)...)
	}
	if err := t.G.Create(deliveries).Error; err != nil {
		return fmt.Errorf("queue webhook deliveries: %w", err)
	}
	return nil
}
