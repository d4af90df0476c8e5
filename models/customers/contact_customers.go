package customers

import (
	"fmt"

	errs "github.com/sendara/console/models/errs"
	store "github.com/sendara/console/models/store"
)

// requireCustomer checks that customerID is an active customer the actor
// may act in.
func RequireCustomer(t *store.Tx, customerID string) error {
	if !store.ValidID(customerID) {
		return store.ErrNotFound
	}
	var c Customer
	if err := t.G.Scopes(t.Actor.Tenant("id")).Select("id", "status", "slug").First(&c, "id = ?", customerID).Error; err != nil {
		return store.NotFound(err)
	}
	if c.Status != CustomerActive {
		return &errs.ConflictError{Field: "customer", Message: fmt.Sprintf("customer %s is %s", c.Slug, c.Status)}
	}
	return nil
}
