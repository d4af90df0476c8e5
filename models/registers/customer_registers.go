package registers

import (
	customers "github.com/sendara/console/models/customers"
	errs "github.com/sendara/console/models/errs"

	"context"
	"fmt"

	store "github.com/sendara/console/models/store"
)

// CancelCustomer marks a customer cancelled: its users can no longer sign
// in and its keys stop working, but its data stays until the reactivation
// window ends (cancellation.go); its admins are told until when.
func (db *RegisterStore) CancelCustomer(ctx context.Context, actor store.Actor, id string) error {
	if !store.ValidID(id) {
		return store.ErrNotFound
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		var c customers.Customer
		if err := tx.G.Scopes(actor.Tenant("id")).First(&c, "id = ?", id).Error; err != nil {
			return store.NotFound(err)
		}
		if c.Status != customers.CustomerActive {
			return &errs.ConflictError{Field: "status", Message: fmt.Sprintf("customer %s is already %s", c.Slug, c.Status)}
		}
		now := store.Now()
		if err := tx.G.Model(&c).Updates(map[string]any{"status": customers.CustomerCancelled, "cancelled_at": now, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("cancel customer: %w", err)
		}
		tx.Audit(store.Audit{Action: "customer.cancel", ObjectType: "customer", ObjectID: c.ID, CustomerID: c.ID,
			Details: map[string]any{"slug": c.Slug}})
		return customerCancelled(tx, &c, now)
	})
}
