package consent

import (
	customers "github.com/sendara/console/models/customers"

	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	errs "github.com/sendara/console/models/errs"

	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// Contact is a person a customer messages: the controller's data, held by
// Sendara as processor. Identifiers are unique per customer.
type Contact struct {
	CustomerID   string `gorm:"primaryKey"`
	ID           string `gorm:"primaryKey"`
	Name         string
	NameKey      string
	CRMID        string `gorm:"column:crm_id"`
	Restricted   bool
	Suppressed   bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	AnonymizedAt *time.Time

	Identifiers []ContactIdentifier `gorm:"-"`
	// OptedIn lists the channels where an opt-in stands (filled by
	// ListContacts): with Suppressed it tells the three states apart, so a
	// list never shows "not suppressed" as consent.
	OptedIn []string `gorm:"-"`
	// States is the consent state per channel as the writing transaction
	// left it (filled by CreateContact), so an answer about a new contact
	// needs no read after the commit.
	States map[string]ConsentState `gorm:"-"`
}

// ContactIdentifier is one normalized identifier of a contact.
type ContactIdentifier struct {
	CustomerID string `gorm:"primaryKey"`
	Value      string `gorm:"primaryKey"`
	Kind       string
	ContactID  string
	CreatedAt  time.Time
}

// Values lists the contact's identifier values.
func (c *Contact) Values() []string {
	out := make([]string, len(c.Identifiers))
	for i, id := range c.Identifiers {
		out[i] = id.Value
	}
	return out
}

// ContactInput is what may be set on a contact.
type ContactInput struct {
	Identifiers []string // raw; normalized with the region
	Name        string
	CRMID       string
}

func NameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// NormalizeAll normalizes raw identifiers, naming the bad one's position in
// field (identifiers[1]); duplicates collapse.
func NormalizeAll(field string, raws []string, region string) ([]store.Identifier, error) {
	seen := map[string]bool{}
	var out []store.Identifier
	for i, raw := range raws {
		id, err := store.NormalizeIdentifier(fmt.Sprintf("%s[%d]", field, i), raw, region)
		if err != nil {
			return nil, err
		}
		if !seen[id.Value] {
			seen[id.Value] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// ErrIdentifierTaken is an identifier that already belongs to another
// contact of the same customer.
func identifierTaken(value string) error {
	return &errs.ConflictError{Field: "identifiers", Message: fmt.Sprintf("%s already belongs to another contact", value)}
}

// CreateContact adds a contact with its identifiers to customerID.
func (db *ConsentStore) CreateContact(ctx context.Context, actor store.Actor, customerID string, in ContactInput, region string) (*Contact, error) {
	ids, err := NormalizeAll("identifiers", in.Identifiers, region)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, errs.Invalid("identifiers", "give at least one phone number or email address")
	}
	if err := checkContactText(in); err != nil {
		return nil, err
	}
	var c *Contact
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := customers.RequireCustomer(tx, customerID); err != nil {
			return err
		}
		var taken []ContactIdentifier
		if err := tx.G.Where("customer_id = ? AND value IN ?", customerID, IdentifierValues(ids)).Find(&taken).Error; err != nil {
			return fmt.Errorf("check identifiers: %w", err)
		}
		if len(taken) > 0 {
			return identifierTaken(taken[0].Value)
		}
		c, err = InsertContact(tx, customerID, strings.TrimSpace(in.Name), strings.TrimSpace(in.CRMID), ids)
		if err != nil {
			return err
		}
		// An erased person's identifier comes back suppressed: what the
		// transaction wrote is what the caller answers with.
		if c.States, err = States(tx, customerID, c.ID); err != nil {
			return err
		}
		c.Suppressed, c.Restricted = false, false
		for _, st := range c.States {
			c.Suppressed = c.Suppressed || st.Suppressed
			c.Restricted = c.Restricted || (st.Suppressed && st.Reason == ReasonRestriction)
		}
		tx.Audit(store.Audit{Action: "contact.create", ObjectType: "contact", ObjectID: c.ID, CustomerID: customerID,
			Details: map[string]any{"identifiers": len(ids)}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func checkContactText(in ContactInput) error {
	if len(in.Name) > 200 {
		return errs.Invalid("name", "must be at most 200 characters")
	}
	if len(in.CRMID) > 200 {
		return errs.Invalid("crm_id", "must be at most 200 characters")
	}
	return nil
}

func IdentifierValues(ids []store.Identifier) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.Value
	}
	return out
}

func InsertContact(t *store.Tx, customerID, name, crmID string, ids []store.Identifier) (*Contact, error) {
	now := store.Now()
	c := &Contact{CustomerID: customerID, ID: uuid.Must(uuid.NewV7()).String(), Name: name, NameKey: NameKey(name),
		CRMID: crmID, CreatedAt: now, UpdatedAt: now}
	if err := t.G.Create(c).Error; err != nil {
		return nil, fmt.Errorf("create contact: %w", err)
	}
	for _, id := range ids {
		ci := ContactIdentifier{CustomerID: customerID, Value: id.Value, Kind: id.Kind, ContactID: c.ID, CreatedAt: now}
		if err := t.G.Create(&ci).Error; err != nil {
			return nil, store.UniqueViolation(err, "identifiers", fmt.Sprintf("%s already belongs to another contact", id.Value))
		}
		c.Identifiers = append(c.Identifiers, ci)
	}
	if err := SuppressErased(t, customerID, c.Identifiers); err != nil {
		return nil, err
	}
	var n int64
	if err := t.G.Model(&ConsentState{}).Where("customer_id = ? AND contact_id = ? AND suppressed", customerID, c.ID).Count(&n).Error; err != nil {
		return nil, err
	}
	c.Suppressed = n > 0
	return c, nil
}

// SuppressErased keeps an erased person suppressed when a CRM import or
// an API call creates them again: contacts whose new identifiers' keyed
// hashes are on the customer's erased list get an erasure opt-out at once.
// It costs one indexed lookup per 500 new identifiers, and keeps the
// suppression check itself to its single query.
func SuppressErased(t *store.Tx, customerID string, added []ContactIdentifier) error {
	if len(added) == 0 {
		return nil
	}
	secret, err := store.ServerSecretIn(t.G, t.Keys)
	if err != nil || secret == nil {
		return err // no secret yet: nobody was ever erased
	}
	key := erasureKeyFrom(secret)
	contactOf := map[string]string{}
	hashes := make([]string, 0, len(added))
	for _, ci := range added {
		for _, spelling := range store.SpellingsOf(ci.Value) {
			h := IdentifierHash(key, customerID, spelling)
			contactOf[h] = ci.ContactID
			hashes = append(hashes, h)
		}
	}
	hit := map[string]ErasedIdentifier{}
	for _, part := range store.Chunk(hashes, 500) {
		var erased []ErasedIdentifier
		if err := t.G.Where("customer_id = ? AND hash IN ?", customerID, part).Find(&erased).Error; err != nil {
			return fmt.Errorf("check the erased list: %w", err)
		}
		for _, e := range erased {
			hit[contactOf[e.Hash]] = e
		}
	}
	now := store.Now()
	for contactID, e := range hit {
		// An erased person is suppressed from now; a person who asked to
		// stop contact, from their request, as if the contact had existed
		// then (an opt-in given since may lift a plain opt-out, as it could
		// have on that contact; an objection or restriction it cannot).
		evidence, occurred := "an identifier of this contact belongs to a person erased on "+e.Since.UTC().Format(time.DateOnly), now
		if e.Reason != ReasonErasure {
			evidence = "an identifier of this contact belongs to a person who asked Sendara on " + e.Since.UTC().Format(time.DateOnly) +
				" to stop contact (" + e.Reason + ")"
			occurred = e.Since.UTC()
		}
		ev := &ConsentEvent{CustomerID: customerID, ID: uuid.Must(uuid.NewV7()).String(), ContactID: contactID, Channel: ChannelAll,
			Kind: OptOut, Reason: e.Reason, Source: "privacy_request", Evidence: evidence,
			ActorType: t.Actor.Type, ActorID: t.Actor.ID, ActorLabel: t.Actor.Label, OccurredAt: occurred, RecordedAt: now}
		if err := t.G.Create(ev).Error; err != nil {
			return fmt.Errorf("suppress an erased person: %w", err)
		}
		if err := RefreshStates(t, &Contact{CustomerID: customerID, ID: contactID}); err != nil {
			return err
		}
		t.Audit(store.Audit{Action: "consent.opt_out", ObjectType: "contact", ObjectID: contactID, CustomerID: customerID,
			Details: map[string]any{"channel": ChannelAll, "source": "privacy_request", "reason": e.Reason, "event": ev.ID}})
	}
	return nil
}

// Contact returns one contact the actor may see, with its identifiers.
// Another tenant's contact is ErrNotFound.
func (db *ConsentStore) Contact(ctx context.Context, actor store.Actor, id string) (*Contact, error) {
	return contactByID(db.Gorm.WithContext(ctx), actor, id)
}

func contactByID(g *gorm.DB, actor store.Actor, id string) (*Contact, error) {
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var c Contact
	if err := g.Scopes(actor.Tenant("customer_id")).First(&c, "id = ?", id).Error; err != nil {
		return nil, store.NotFound(err)
	}
	if err := g.Where("customer_id = ? AND contact_id = ?", c.CustomerID, c.ID).Order("kind DESC, value").Find(&c.Identifiers).Error; err != nil {
		return nil, fmt.Errorf("load identifiers: %w", err)
	}
	return &c, nil
}

// ContactsByIdentifier finds the contacts of customerID holding the
// identifier (zero or one: identifiers are unique per customer).
func (db *ConsentStore) ContactsByIdentifier(ctx context.Context, actor store.Actor, customerID, raw, region string) ([]Contact, error) {
	id, err := store.NormalizeIdentifier("to", raw, region)
	if err != nil {
		return nil, err
	}
	var ci ContactIdentifier
	g := db.Gorm.WithContext(ctx)
	err = g.Scopes(actor.Tenant("customer_id")).First(&ci, "customer_id = ? AND value = ?", customerID, id.Value).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return []Contact{}, nil
	} else if err != nil {
		return nil, fmt.Errorf("find contact: %w", err)
	}
	c, err := contactByID(g, actor, ci.ContactID)
	if err != nil {
		return nil, err
	}
	return []Contact{*c}, nil
}

// UpdateContact changes a contact's name, CRM id and identifiers; the audit
// entry records which fields changed.
func (db *ConsentStore) UpdateContact(ctx context.Context, actor store.Actor, id string, in ContactInput, region string) (*Contact, error) {
	ids, err := NormalizeAll("identifiers", in.Identifiers, region)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, errs.Invalid("identifiers", "give at least one phone number or email address")
	}
	if err := checkContactText(in); err != nil {
		return nil, err
	}
	var c *Contact
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		if c, err = contactByID(tx.G, actor, id); err != nil {
			return err
		}
		changed := []string{}
		name, crm := strings.TrimSpace(in.Name), strings.TrimSpace(in.CRMID)
		if name != c.Name {
			changed = append(changed, "name")
		}
		if crm != c.CRMID {
			changed = append(changed, "crm_id")
		}
		have := map[string]bool{}
		for _, v := range c.Values() {
			have[v] = true
		}
		want := map[string]bool{}
		now := store.Now()
		for _, nid := range ids {
			want[nid.Value] = true
			if have[nid.Value] {
				continue
			}
			ci := ContactIdentifier{CustomerID: c.CustomerID, Value: nid.Value, Kind: nid.Kind, ContactID: c.ID, CreatedAt: now}
			if err := tx.G.Create(&ci).Error; err != nil {
				return store.UniqueViolation(err, "identifiers", fmt.Sprintf("%s already belongs to another contact", nid.Value))
			}
			changed = append(changed, "identifier_added")
		}
		for v := range have {
			if !want[v] {
				if err := tx.G.Where("customer_id = ? AND value = ?", c.CustomerID, v).Delete(&ContactIdentifier{}).Error; err != nil {
					return fmt.Errorf("remove identifier: %w", err)
				}
				changed = append(changed, "identifier_removed")
			}
		}
		if err := tx.G.Model(&Contact{}).Where("customer_id = ? AND id = ?", c.CustomerID, c.ID).
			Updates(map[string]any{"name": name, "name_key": NameKey(name), "crm_id": crm, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("update contact: %w", err)
		}
		tx.Audit(store.Audit{Action: "contact.update", ObjectType: "contact", ObjectID: c.ID, CustomerID: c.CustomerID,
			Details: map[string]any{"changed": changed}})
		c, err = contactByID(tx.G, actor, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ContactFilter narrows the contact list.
type ContactFilter struct {
	CustomerID string // required for staff lists across one tenant; customer actors use their own
	Query      string // an identifier, a name prefix or a CRM id
	Suppressed *bool
	Restricted *bool
	After      string // keyset: contacts with a smaller id (older) than this one
	Limit      int
}

// ListContacts returns one page of contacts, newest first, using keyset
// pagination on the time-ordered id: the cost of a page does not depend on
// its depth, and nothing counts the whole table. It also reports whether
// there are more.
func (db *ConsentStore) ListContacts(ctx context.Context, actor store.Actor, f ContactFilter, region string) ([]Contact, bool, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := db.Gorm.WithContext(ctx).Model(&Contact{}).Scopes(actor.Tenant("contacts.customer_id"))
	if f.CustomerID != "" {
		if !store.ValidID(f.CustomerID) {
			return nil, false, errs.Invalid("customer", "no such customer")
		}
		q = q.Where("contacts.customer_id = ?", f.CustomerID)
	}
	if query := strings.TrimSpace(f.Query); query != "" {
		if id, err := store.NormalizeIdentifier("q", query, region); err == nil {
			sub := db.Gorm.Model(&ContactIdentifier{}).Select("contact_id").Where("value = ?", id.Value)
			q = q.Where("contacts.id IN (?)", sub)
		} else {
			key := NameKey(query)
			if db.Dialect == store.Postgres {
				// PostgreSQL estimates LIKE from the column's common values and
				// uses the text_pattern_ops index; it estimates the >=/< range
				// from the histogram alone and then scans the table (bench/).
				q = q.Where("(contacts.name_key LIKE ? ESCAPE '\\' OR contacts.crm_id = ?)", store.EscapeLike(key)+"%", query)
			} else {
				q = q.Where("(contacts.name_key >= ? AND contacts.name_key < ?) OR contacts.crm_id = ?", key, key+"\uffff", query)
			}
		}
	}
	if f.Suppressed != nil {
		q = q.Where("contacts.suppressed = ?", *f.Suppressed)
	}
	if f.Restricted != nil {
		q = q.Where("contacts.restricted = ?", *f.Restricted)
	}
	if f.After != "" {
		if !store.ValidID(f.After) {
			return nil, false, errs.Invalid("after", "is not a contact id")
		}
		q = q.Where("contacts.id < ?", f.After)
	}
	var cs []Contact
	if err := q.Order("contacts.id DESC").Limit(f.Limit + 1).Find(&cs).Error; err != nil {
		return nil, false, fmt.Errorf("list contacts: %w", err)
	}
	more := len(cs) > f.Limit
	if more {
		cs = cs[:f.Limit]
	}
	if err := db.loadIdentifiers(ctx, cs); err != nil {
		return nil, false, err
	}
	if err := db.loadOptIns(ctx, cs); err != nil {
		return nil, false, err
	}
	return cs, more, nil
}

// loadOptIns fills each contact's OptedIn: the channels whose state does
// not suppress (a state is the fold of the ledger, so that is an opt-in).
func (db *ConsentStore) loadOptIns(ctx context.Context, cs []Contact) error {
	byTenant := map[string][]string{}
	byID := make(map[string]*Contact, len(cs))
	for i := range cs {
		byTenant[cs[i].CustomerID] = append(byTenant[cs[i].CustomerID], cs[i].ID)
		byID[cs[i].ID] = &cs[i]
	}
	for tenant, ids := range byTenant {
		var states []ConsentState
		if err := db.Gorm.WithContext(ctx).Where("customer_id = ? AND contact_id IN ? AND suppressed = ?", tenant, ids, false).
			Order("channel").Find(&states).Error; err != nil {
			return fmt.Errorf("load opt-ins: %w", err)
		}
		for _, st := range states {
			byID[st.ContactID].OptedIn = append(byID[st.ContactID].OptedIn, st.Channel)
		}
	}
	return nil
}

func (db *ConsentStore) loadIdentifiers(ctx context.Context, cs []Contact) error {
	if len(cs) == 0 {
		return nil
	}
	// One query per tenant on the page (usually one), so the lookup uses
	// the (customer_id, contact_id) index.
	byTenant := map[string][]string{}
	byID := make(map[string]*Contact, len(cs))
	for i := range cs {
		byTenant[cs[i].CustomerID] = append(byTenant[cs[i].CustomerID], cs[i].ID)
		byID[cs[i].ID] = &cs[i]
	}
	for tenant, ids := range byTenant {
		var all []ContactIdentifier
		if err := db.Gorm.WithContext(ctx).Where("customer_id = ? AND contact_id IN ?", tenant, ids).Order("kind DESC, value").Find(&all).Error; err != nil {
			return fmt.Errorf("load identifiers: %w", err)
		}
		for _, ci := range all {
			byID[ci.ContactID].Identifiers = append(byID[ci.ContactID].Identifiers, ci)
		}
	}
	return nil
}
