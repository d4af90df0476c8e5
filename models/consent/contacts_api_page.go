package consent

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/google/uuid"
	errs "github.com/sendara/console/models/errs"
	store "github.com/sendara/console/models/store"
)

// APIContactsMax is the most contacts one page of GET /api/v1/contacts
// may carry; APIContactsDefault is the size when no limit is given.
const (
	APIContactsDefault = 100
	APIContactsMax     = 1000
)

// EncodeContactCursor makes the opaque cursor of a contacts page: the
// last contact's id (ids are UUIDv7, so id order is creation order).
func EncodeContactCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(id))
}

// DecodeContactCursor reads a cursor made by EncodeContactCursor; anything
// else is a validation error on the field "after".
func DecodeContactCursor(cursor string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(cursor))
	if err != nil {
		return "", errs.Invalid("after", "is not a cursor this API gave (use the next value of the previous page)")
	}
	u, err := uuid.Parse(string(raw))
	if err != nil || u.String() != string(raw) {
		return "", errs.Invalid("after", "is not a cursor this API gave (use the next value of the previous page)")
	}
	return string(raw), nil
}

// ContactsPage lists customerID's contacts oldest first, keyset-paged on the
// time-ordered id: after is the last id of the previous page ("" for the
// first). It answers the page, with identifiers and consent states loaded
// in one query each, and the next page's last-id (or "" at the end).
// Scoped to the actor's tenant in the query itself.
func (db *ConsentStore) ContactsPage(ctx context.Context, actor store.Actor, customerID, after string, limit int) ([]Contact, string, error) {
	if limit <= 0 {
		limit = APIContactsDefault
	}
	if limit > APIContactsMax {
		return nil, "", errs.Invalid("limit", "may be at most %d", APIContactsMax)
	}
	if !store.ValidID(customerID) {
		return nil, "", store.ErrNotFound
	}
	q := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).Where("customer_id = ?", customerID)
	if after != "" {
		q = q.Where("id > ?", after)
	}
	var cs []Contact
	if err := q.Order("id").Limit(limit + 1).Find(&cs).Error; err != nil {
		return nil, "", fmt.Errorf("page contacts: %w", err)
	}
	next := ""
	if len(cs) > limit {
		cs = cs[:limit]
		next = cs[limit-1].ID
	}
	if err := db.loadIdentifiers(ctx, cs); err != nil {
		return nil, "", err
	}
	if err := db.loadStates(ctx, cs); err != nil {
		return nil, "", err
	}
	return cs, next, nil
}

// ContactsByCRMID finds customerID's contacts carrying that CRM id (CRM ids
// are not unique: a CRM may merge records), oldest first.
func (db *ConsentStore) ContactsByCRMID(ctx context.Context, actor store.Actor, customerID, crmID string) ([]Contact, error) {
	crmID = strings.TrimSpace(crmID)
	if crmID == "" {
		return nil, errs.Invalid("crm_id", "give a CRM id")
	}
	if len(crmID) > 200 {
		return nil, errs.Invalid("crm_id", "is longer than 200 characters")
	}
	if !store.ValidID(customerID) {
		return nil, store.ErrNotFound
	}
	var cs []Contact
	if err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).
		Where("customer_id = ? AND crm_id = ?", customerID, crmID).Order("id").Limit(APIContactsMax).Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("find contacts by crm id: %w", err)
	}
	if err := db.loadIdentifiers(ctx, cs); err != nil {
		return nil, err
	}
	if err := db.loadStates(ctx, cs); err != nil {
		return nil, err
	}
	return cs, nil
}

// loadStates fills each contact's States, one query per tenant on the page.
func (db *ConsentStore) loadStates(ctx context.Context, cs []Contact) error {
	byTenant := map[string][]string{}
	byID := make(map[string]*Contact, len(cs))
	for i := range cs {
		cs[i].States = map[string]ConsentState{}
		byTenant[cs[i].CustomerID] = append(byTenant[cs[i].CustomerID], cs[i].ID)
		byID[cs[i].ID] = &cs[i]
	}
	for tenant, ids := range byTenant {
		var states []ConsentState
		if err := db.Gorm.WithContext(ctx).Where("customer_id = ? AND contact_id IN ?", tenant, ids).Find(&states).Error; err != nil {
			return fmt.Errorf("load consent states: %w", err)
		}
		for _, st := range states {
			byID[st.ContactID].States[st.Channel] = st
		}
	}
	return nil
}
