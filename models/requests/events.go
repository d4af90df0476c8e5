package requests

import (
	consent "github.com/sendara/console/models/consent"

	hooks "github.com/sendara/console/models/hooks"

	"encoding/json"
	"fmt"
	"slices"

	store "github.com/sendara/console/models/store"
)

// ErasedEvents runs with the erasure of contacts: the events already
// written about them carry their identifiers, so they go (with their
// deliveries), and one contact.erased per contact takes their place. It
// names the contact by its ids only, so the CRM can erase its record too.
func ErasedEvents(t *store.Tx, customerID string, contacts []consent.Contact, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	old := t.G.Model(&hooks.WebhookEvent{}).Select("seq").Where("customer_id = ? AND contact_id IN ?", customerID, ids)
	for _, stmt := range []string{
		"DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE event_seq IN (?))",
		"DELETE FROM webhook_deliveries WHERE event_seq IN (?)",
	} {
		if err := t.G.Exec(stmt, old).Error; err != nil {
			return fmt.Errorf("erase webhook deliveries: %w", err)
		}
	}
	if err := t.G.Where("customer_id = ? AND contact_id IN ?", customerID, ids).Delete(&hooks.WebhookEvent{}).Error; err != nil {
		return fmt.Errorf("erase webhook events: %w", err)
	}
	for _, c := range contacts {
		if !slices.Contains(ids, c.ID) {
			continue // kept under a legal hold
		}
		if err := hooks.EmitEvent(t, customerID, hooks.EventContactErased, c.ID, map[string]any{"contact_id": c.ID, "crm_id": c.CRMID}); err != nil {
			return err
		}
	}
	return nil
}

// taskEvent emits request.routed or request.answered for a controller's
// task: the request's reference and type and the customer's contacts it
// concerns, never the requester's details.
func taskEvent(t *store.Tx, typ string, r *PrivacyRequest, task *RoutedTask) error {
	var contacts []string
	if err := json.Unmarshal([]byte(task.ContactIDs), &contacts); err != nil {
		return fmt.Errorf("read the task's contacts: %w", err)
	}
	data := map[string]any{"task_id": task.ID, "request_id": r.ID, "reference": r.Reference, "request_type": r.TypeOr(""),
		"contact_ids": contacts, "status": task.Status, "due_on": task.DueOn}
	if typ == hooks.EventRequestAnswered {
		data["decision"], data["answered_by"] = task.Decision, task.AnsweredBy
	}
	return hooks.EmitEvent(t, task.CustomerID, typ, "", data)
}
