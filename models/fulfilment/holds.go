package fulfilment

import (
	consent "github.com/sendara/console/models/consent"
	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

func HoldReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 1000 {
		return "", errs.Invalid("reason", "say why the data must be kept (at most 1000 characters), e.g. the case or the obligation")
	}
	return reason, nil
}

// HoldSubject places a legal hold on every contact of the request's
// subject that fulfilment would act on and that is not already held; it
// reports how many holds it placed. Each hold is audited (legal_hold.place)
// and the request's timeline says where they were placed.
func (db *FulfilmentStore) HoldSubject(ctx context.Context, actor store.Actor, requestID, reason string) (int, error) {
	reason, err := HoldReason(reason)
	if err != nil {
		return 0, err
	}
	if !actor.Staff() {
		return 0, store.ErrNotFound
	}
	placed := 0
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		r, err := requestForFulfilment(tx, requestID)
		if err != nil {
			return err
		}
		scopes, err := subjectScopes(tx.G, r)
		if err != nil {
			return err
		}
		if len(scopes) == 0 {
			return errNotInstructed()
		}
		var where []string
		for _, sc := range scopes {
			held, _, err := ActiveHolds(tx.G, sc.Customer.ID, sc.ContactIDs, nil)
			if err != nil {
				return err
			}
			n := 0
			for _, contactID := range sc.ContactIDs {
				if _, ok := held[contactID]; ok {
					continue
				}
				h, err := placeHold(tx, sc.Customer.ID, &contactID, nil, reason)
				if err != nil {
					return err
				}
				tx.Audit(store.Audit{Action: "legal_hold.place", ObjectType: "legal_hold", ObjectID: h.ID, CustomerID: sc.Customer.ID,
					Details: map[string]any{"contact": contactID, "reason": reason, "request": r.Reference}})
				n++
			}
			if n > 0 {
				where = append(where, fmt.Sprintf("%d contact(s) at %s", n, sc.Customer.Name))
				placed += n
			}
		}
		if placed == 0 {
			return &errs.ConflictError{Field: "reason", Message: "no contact of this person is left to hold (they are all held already, or none was found)"}
		}
		tx.Event(r.ID, "legal_hold", fmt.Sprintf("Legal hold placed on %s: %s", strings.Join(where, ", "), reason))
		return nil
	})
	return placed, err
}

// HoldIdentifier places a legal hold on an identifier of customerID: any
// contact that has it, now or later, is kept out of erasure until the hold
// is released. Only the identifier's keyed hash is stored.
func (db *FulfilmentStore) HoldIdentifier(ctx context.Context, actor store.Actor, customerID, raw, reason, region string) (*consent.LegalHold, error) {
	reason, err := HoldReason(reason)
	if err != nil {
		return nil, err
	}
	id, err := store.NormalizeIdentifier("identifier", raw, region)
	if err != nil {
		return nil, err
	}
	key, err := db.ErasureKey(ctx)
	if err != nil {
		return nil, err
	}
	var h *consent.LegalHold
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := customers.RequireCustomer(tx, customerID); err != nil {
			return err
		}
		hash := consent.IdentifierHash(key, customerID, id.Value)
		if h, err = placeHold(tx, customerID, nil, &hash, reason); err != nil {
			return err
		}
		tx.Audit(store.Audit{Action: "legal_hold.place", ObjectType: "legal_hold", ObjectID: h.ID, CustomerID: customerID,
			Details: map[string]any{"reason": reason, "kind": id.Kind}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

func placeHold(t *store.Tx, customerID string, contactID, hash *string, reason string) (*consent.LegalHold, error) {
	h := &consent.LegalHold{CustomerID: customerID, ID: uuid.Must(uuid.NewV7()).String(), ContactID: contactID, IdentifierHash: hash,
		Reason: reason, CreatedBy: t.Actor.Label, CreatedAt: store.Now()}
	if err := t.G.Create(h).Error; err != nil {
		return nil, fmt.Errorf("place legal hold: %w", err)
	}
	return h, nil
}

// ReleaseHold ends a legal hold, from the case page of requestID (the
// release goes on its timeline). The data it kept becomes erasable: the
// next erasure of the subject removes it.
func (db *FulfilmentStore) ReleaseHold(ctx context.Context, actor store.Actor, requestID, holdID string) (*consent.LegalHold, error) {
	if !actor.Staff() || !store.ValidID(holdID) {
		return nil, store.ErrNotFound
	}
	var h consent.LegalHold
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		r, err := requestForFulfilment(tx, requestID)
		if err != nil {
			return err
		}
		if err := tx.G.First(&h, "id = ?", holdID).Error; err != nil {
			return store.NotFound(err)
		}
		if !h.Active() {
			return &errs.ConflictError{Field: "hold", Message: "this legal hold was already released by " + h.ReleasedBy}
		}
		now := store.Now()
		h.ReleasedAt, h.ReleasedBy = &now, actor.Label
		if err := tx.G.Model(&consent.LegalHold{}).Where("customer_id = ? AND id = ? AND released_at IS NULL", h.CustomerID, h.ID).
			Updates(map[string]any{"released_at": now, "released_by": actor.Label}).Error; err != nil {
			return fmt.Errorf("release legal hold: %w", err)
		}
		var cust customers.Customer
		if err := tx.G.Select("name").First(&cust, "id = ?", h.CustomerID).Error; err != nil {
			return fmt.Errorf("release legal hold: %w", err)
		}
		tx.Event(r.ID, "legal_hold", fmt.Sprintf("Legal hold released at %s (placed by %s: %s).", cust.Name, h.CreatedBy, h.Reason))
		tx.Audit(store.Audit{Action: "legal_hold.release", ObjectType: "legal_hold", ObjectID: h.ID, CustomerID: h.CustomerID,
			Details: map[string]any{"contact": store.DerefString(h.ContactID), "request": r.Reference}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// ActiveHolds returns customerID's active holds on the given contacts and
// identifier hashes, by contact id and by hash.
func ActiveHolds(g *gorm.DB, customerID string, contactIDs, hashes []string) (map[string]consent.LegalHold, map[string]consent.LegalHold, error) {
	byContact, byHash := map[string]consent.LegalHold{}, map[string]consent.LegalHold{}
	if len(contactIDs) == 0 && len(hashes) == 0 {
		return byContact, byHash, nil
	}
	var hs []consent.LegalHold
	q := g.Where("customer_id = ? AND released_at IS NULL", customerID)
	switch {
	case len(hashes) == 0:
		q = q.Where("contact_id IN ?", contactIDs)
	case len(contactIDs) == 0:
		q = q.Where("identifier_hash IN ?", hashes)
	default:
		q = q.Where("(contact_id IN ? OR identifier_hash IN ?)", contactIDs, hashes)
	}
	if err := q.Order("created_at").Find(&hs).Error; err != nil {
		return nil, nil, fmt.Errorf("read legal holds: %w", err)
	}
	for _, h := range hs {
		if h.ContactID != nil {
			byContact[*h.ContactID] = h
		}
		if h.IdentifierHash != nil {
			byHash[*h.IdentifierHash] = h
		}
	}
	return byContact, byHash, nil
}
