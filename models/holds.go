package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// LegalHold keeps data out of erasure while a legal obligation (litigation,
// a regulator's inquiry, a tax audit) requires it. It holds a contact, or an
// identifier by its keyed hash whichever contact has it. Held data is kept
// as it is, not anonymized: a hold exists to preserve evidence unchanged.
// Erasure marks a held contact instead, with an "erasure" opt-out in its
// ledger so it is never messaged, and reports it as kept under legal hold.
type LegalHold struct {
	CustomerID     string `gorm:"primaryKey"`
	ID             string `gorm:"primaryKey"`
	ContactID      *string
	IdentifierHash *string
	Reason         string
	CreatedBy      string
	CreatedAt      time.Time
	ReleasedAt     *time.Time
	ReleasedBy     string
}

// Active reports whether the hold still applies.
func (h LegalHold) Active() bool { return h.ReleasedAt == nil }

func holdReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 1000 {
		return "", Invalid("reason", "say why the data must be kept (at most 1000 characters), e.g. the case or the obligation")
	}
	return reason, nil
}

// HoldSubject places a legal hold on every contact of the request's
// subject that fulfilment would act on and that is not already held; it
// reports how many holds it placed. Each hold is audited (legal_hold.place)
// and the request's timeline says where they were placed.
func (db *DB) HoldSubject(ctx context.Context, actor Actor, requestID, reason string) (int, error) {
	reason, err := holdReason(reason)
	if err != nil {
		return 0, err
	}
	if !actor.Staff() {
		return 0, ErrNotFound
	}
	placed := 0
	err = db.Tx(ctx, actor, func(tx *Tx) error {
		r, err := tx.requestForFulfilment(requestID)
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
			held, _, err := activeHolds(tx.G, sc.Customer.ID, sc.ContactIDs, nil)
			if err != nil {
				return err
			}
			n := 0
			for _, contactID := range sc.ContactIDs {
				if _, ok := held[contactID]; ok {
					continue
				}
				h, err := tx.placeHold(sc.Customer.ID, &contactID, nil, reason)
				if err != nil {
					return err
				}
				tx.Audit(Audit{Action: "legal_hold.place", ObjectType: "legal_hold", ObjectID: h.ID, CustomerID: sc.Customer.ID,
					Details: map[string]any{"contact": contactID, "reason": reason, "request": r.Reference}})
				n++
			}
			if n > 0 {
				where = append(where, fmt.Sprintf("%d contact(s) at %s", n, sc.Customer.Name))
				placed += n
			}
		}
		if placed == 0 {
			return &ConflictError{Field: "reason", Message: "no contact of this person is left to hold (they are all held already, or none was found)"}
		}
		tx.event(r.ID, "legal_hold", fmt.Sprintf("Legal hold placed on %s: %s", strings.Join(where, ", "), reason))
		return nil
	})
	return placed, err
}

// HoldIdentifier places a legal hold on an identifier of customerID: any
// contact that has it, now or later, is kept out of erasure until the hold
// is released. Only the identifier's keyed hash is stored.
func (db *DB) HoldIdentifier(ctx context.Context, actor Actor, customerID, raw, reason, region string) (*LegalHold, error) {
	reason, err := holdReason(reason)
	if err != nil {
		return nil, err
	}
	id, err := NormalizeIdentifier("identifier", raw, region)
	if err != nil {
		return nil, err
	}
	key, err := db.erasureKey(ctx)
	if err != nil {
		return nil, err
	}
	var h *LegalHold
	err = db.Tx(ctx, actor, func(tx *Tx) error {
		if err := tx.requireCustomer(customerID); err != nil {
			return err
		}
		hash := identifierHash(key, customerID, id.Value)
		if h, err = tx.placeHold(customerID, nil, &hash, reason); err != nil {
			return err
		}
		tx.Audit(Audit{Action: "legal_hold.place", ObjectType: "legal_hold", ObjectID: h.ID, CustomerID: customerID,
			Details: map[string]any{"reason": reason, "kind": id.Kind}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

func (t *Tx) placeHold(customerID string, contactID, hash *string, reason string) (*LegalHold, error) {
	h := &LegalHold{CustomerID: customerID, ID: uuid.Must(uuid.NewV7()).String(), ContactID: contactID, IdentifierHash: hash,
		Reason: reason, CreatedBy: t.Actor.Label, CreatedAt: Now()}
	if err := t.G.Create(h).Error; err != nil {
		return nil, fmt.Errorf("place legal hold: %w", err)
	}
	return h, nil
}

// ReleaseHold ends a legal hold, from the case page of requestID (the
// release goes on its timeline). The data it kept becomes erasable: the
// next erasure of the subject removes it.
func (db *DB) ReleaseHold(ctx context.Context, actor Actor, requestID, holdID string) (*LegalHold, error) {
	if !actor.Staff() || !validID(holdID) {
		return nil, ErrNotFound
	}
	var h LegalHold
	err := db.Tx(ctx, actor, func(tx *Tx) error {
		r, err := tx.requestForFulfilment(requestID)
		if err != nil {
			return err
		}
		if err := tx.G.First(&h, "id = ?", holdID).Error; err != nil {
			return notFound(err)
		}
		if !h.Active() {
			return &ConflictError{Field: "hold", Message: "this legal hold was already released by " + h.ReleasedBy}
		}
		now := Now()
		h.ReleasedAt, h.ReleasedBy = &now, actor.Label
		if err := tx.G.Model(&LegalHold{}).Where("customer_id = ? AND id = ? AND released_at IS NULL", h.CustomerID, h.ID).
			Updates(map[string]any{"released_at": now, "released_by": actor.Label}).Error; err != nil {
			return fmt.Errorf("release legal hold: %w", err)
		}
		var cust Customer
		if err := tx.G.Select("name").First(&cust, "id = ?", h.CustomerID).Error; err != nil {
			return fmt.Errorf("release legal hold: %w", err)
		}
		tx.event(r.ID, "legal_hold", fmt.Sprintf("Legal hold released at %s (placed by %s: %s).", cust.Name, h.CreatedBy, h.Reason))
		tx.Audit(Audit{Action: "legal_hold.release", ObjectType: "legal_hold", ObjectID: h.ID, CustomerID: h.CustomerID,
			Details: map[string]any{"contact": derefString(h.ContactID), "request": r.Reference}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// activeHolds returns customerID's active holds on the given contacts and
// identifier hashes, by contact id and by hash.
func activeHolds(g *gorm.DB, customerID string, contactIDs, hashes []string) (map[string]LegalHold, map[string]LegalHold, error) {
	byContact, byHash := map[string]LegalHold{}, map[string]LegalHold{}
	if len(contactIDs) == 0 && len(hashes) == 0 {
		return byContact, byHash, nil
	}
	var hs []LegalHold
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
