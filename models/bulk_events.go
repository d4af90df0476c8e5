package models

import (
	"fmt"
	"slices"
	"time"
)

// bulkOptOutEvents emits consent.opted_out for each opt-out a bulk batch
// (a CSV import) appended to the ledger, in the batch's transaction, as
// consentEvent does for a single one: the same payload, one event in the
// changes feed each, and one delivery per enabled endpoint that wants the
// type. It reads the contacts' CRM ids and identifiers in chunks and
// writes events and deliveries in batches, so an import of a million rows
// costs a few statements per 500 opt-outs, not two queries each.
func (t *Tx) bulkOptOutEvents(customerID string, evs []ConsentEvent) error {
	if len(evs) == 0 {
		return nil
	}
	var endpoints []WebhookEndpoint
	if err := t.G.Select("id", "customer_id", "event_types").Where("customer_id = ? AND enabled", customerID).Find(&endpoints).Error; err != nil {
		return fmt.Errorf("find webhook endpoints: %w", err)
	}
	endpoints = slices.DeleteFunc(endpoints, func(e WebhookEndpoint) bool { return !e.Wants(EventOptedOut) })
	for _, part := range chunk(evs, 500) {
		ids := make([]string, 0, len(part))
		for _, ev := range part {
			ids = append(ids, ev.ContactID)
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		var contacts []Contact
		if err := t.G.Select("id", "crm_id").Where("customer_id = ? AND id IN ?", customerID, ids).Find(&contacts).Error; err != nil {
			return fmt.Errorf("read contacts for their events: %w", err)
		}
		crm := make(map[string]string, len(contacts))
		for _, c := range contacts {
			crm[c.ID] = c.CRMID
		}
		var idents []ContactIdentifier
		if err := t.G.Select("contact_id", "value").Where("customer_id = ? AND contact_id IN ?", customerID, ids).
			Order("value").Find(&idents).Error; err != nil {
			return fmt.Errorf("read identifiers for the events: %w", err)
		}
		values := make(map[string][]string, len(ids))
		for _, ci := range idents {
			values[ci.ContactID] = append(values[ci.ContactID], ci.Value)
		}
		rows := make([]WebhookEvent, 0, len(part))
		for _, ev := range part {
			vs := values[ev.ContactID]
			if vs == nil {
				vs = []string{}
			}
			data := map[string]any{"contact_id": ev.ContactID, "crm_id": crm[ev.ContactID], "identifiers": vs,
				"channel": ev.Channel, "source": ev.Source, "occurred_at": ev.OccurredAt.Format(time.RFC3339Nano),
				"consent_event_id": ev.ID, "reason": ev.Reason}
			we, err := newWebhookEvent(customerID, EventOptedOut, ev.ContactID, data)
			if err != nil {
				return err
			}
			rows = append(rows, *we)
		}
		if err := t.G.Create(&rows).Error; err != nil {
			return fmt.Errorf("write %s events: %w", EventOptedOut, err)
		}
		if len(endpoints) == 0 {
			continue
		}
		deliveries := make([]WebhookDelivery, 0, len(rows)*len(endpoints))
		for i := range rows {
			if rows[i].Seq == 0 {
				return fmt.Errorf("write %s events: no sequence number came back", EventOptedOut)
			}
			deliveries = append(deliveries, deliveryRows(&rows[i], endpoints)...)
		}
		if err := t.G.CreateInBatches(deliveries, 500).Error; err != nil {
			return fmt.Errorf("queue webhook deliveries: %w", err)
		}
	}
	return nil
}
