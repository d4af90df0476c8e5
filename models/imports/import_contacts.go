package imports

import (
	"fmt"

	"github.com/google/uuid"

	consent "github.com/sendara/console/models/consent"

	store "github.com/sendara/console/models/store"
)

// importContacts is what upsertImportContacts did.
type importContacts struct {
	created int
	owner   map[string]string // identifier value → its contact, for every identifier of the rows
	changed []bool            // per row: created a contact or added an identifier, a name or a CRM id
}

// upsertImportContacts is the set-based contact step of an import batch:
// a few queries per batch, not per row. A row's identifiers are one person:
//
//   - when none of them is known, a new contact holds them all, with the
//     row's name and CRM id;
//   - otherwise the row's unknown identifiers join the contact of its first
//     known identifier (in column order); identifiers that already belong
//     to another contact stay where they are;
//   - with fill, an existing contact's empty name and CRM id take the
//     row's; a name or CRM id already set is never overwritten.
//
// Rows of the same batch see each other's contacts, so a person on two
// rows is one contact. One import.batch audit entry covers the batch (the
// caller writes it with the counts).
func upsertImportContacts(t *store.Tx, customerID string, rows []ImportRow, fill bool) (importContacts, error) {
	res := importContacts{changed: make([]bool, len(rows)), owner: map[string]string{}}
	if len(rows) == 0 {
		return res, nil
	}
	now := store.Now()
	var values []string
	for _, r := range rows {
		for _, id := range r.Identifiers {
			values = append(values, id.Value)
		}
	}
	owner := res.owner
	for _, part := range store.Chunk(values, 500) {
		var found []consent.ContactIdentifier
		if err := t.G.Where("customer_id = ? AND value IN ?", customerID, part).Find(&found).Error; err != nil {
			return res, fmt.Errorf("find contacts of imported rows: %w", err)
		}
		for _, ci := range found {
			owner[ci.Value] = ci.ContactID
		}
	}
	existing := map[string]*consent.Contact{}
	if fill {
		ids := map[string]bool{}
		for _, c := range owner {
			ids[c] = true
		}
		list := make([]string, 0, len(ids))
		for id := range ids {
			list = append(list, id)
		}
		for _, part := range store.Chunk(list, 500) {
			var cs []consent.Contact
			if err := t.G.Select("customer_id", "id", "name", "crm_id").Where("customer_id = ? AND id IN ?", customerID, part).
				Find(&cs).Error; err != nil {
				return res, fmt.Errorf("read contacts of imported rows: %w", err)
			}
			for i := range cs {
				existing[cs[i].ID] = &cs[i]
			}
		}
	}

	fresh := map[string]*consent.Contact{}
	var freshOrder []string
	var newIdents []consent.ContactIdentifier
	dirty := map[string]bool{}
	for i, r := range rows {
		contact := ""
		for _, id := range r.Identifiers {
			if c, ok := owner[id.Value]; ok {
				contact = c
				break
			}
		}
		if contact == "" {
			c := &consent.Contact{CustomerID: customerID, ID: uuid.Must(uuid.NewV7()).String(), Name: r.Name, NameKey: consent.NameKey(r.Name),
				CRMID: r.CRMID, CreatedAt: now, UpdatedAt: now}
			fresh[c.ID] = c
			freshOrder = append(freshOrder, c.ID)
			contact = c.ID
			res.created++
			res.changed[i] = true
		}
		for _, id := range r.Identifiers {
			if _, ok := owner[id.Value]; ok {
				continue
			}
			owner[id.Value] = contact
			newIdents = append(newIdents, consent.ContactIdentifier{CustomerID: customerID, Value: id.Value, Kind: id.Kind, ContactID: contact, CreatedAt: now})
			res.changed[i] = true
		}
		if !fill {
			continue
		}
		c, old := existing[contact]
		if !old {
			c = fresh[contact]
		}
		if c == nil {
			continue
		}
		if c.Name == "" && r.Name != "" {
			c.Name, c.NameKey = r.Name, consent.NameKey(r.Name)
			res.changed[i], dirty[contact] = true, old
		}
		if c.CRMID == "" && r.CRMID != "" {
			c.CRMID = r.CRMID
			res.changed[i], dirty[contact] = true, old
		}
	}

	if len(freshOrder) > 0 {
		cs := make([]consent.Contact, len(freshOrder))
		for i, id := range freshOrder {
			cs[i] = *fresh[id]
		}
		if err := t.G.Create(cs).Error; err != nil {
			return res, fmt.Errorf("create imported contacts: %w", err)
		}
	}
	if len(newIdents) > 0 {
		if err := t.G.Create(newIdents).Error; err != nil {
			return res, store.UniqueViolation(fmt.Errorf("add imported identifiers: %w", err), "identifiers",
				"an identifier of this batch was added to another contact meanwhile: retry")
		}
	}
	if err := consent.SuppressErased(t, customerID, newIdents); err != nil {
		return res, err
	}
	for id, isDirty := range dirty {
		if !isDirty {
			continue
		}
		c := existing[id]
		if err := t.G.Model(&consent.Contact{}).Where("customer_id = ? AND id = ?", customerID, id).
			Updates(map[string]any{"name": c.Name, "name_key": c.NameKey, "crm_id": c.CRMID, "updated_at": now}).Error; err != nil {
			return res, fmt.Errorf("complete imported contact: %w", err)
		}
	}
	return res, nil
}
