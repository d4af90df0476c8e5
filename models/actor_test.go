package models_test

import (
	consent "github.com/sendara/console/models/consent"
	customers "github.com/sendara/console/models/customers"

	"slices"
	"testing"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// Each kind of actor reaches exactly the tenants its constructor gives it,
// and an actor nobody constructed reaches none: a forgotten actor fails
// closed instead of seeing every tenant.
func TestActorsReachOnlyWhatTheirConstructorGrants(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := t.Context()
	acme, bolt := newCustomer(t, db, "acme"), newCustomer(t, db, "bolt")
	for _, c := range []*customers.Customer{acme, bolt} {
		if _, err := db.CreateContact(ctx, modeltest.Staff, c.ID, consent.ContactInput{Identifiers: []string{"+14155550100"}}, "US"); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		actor store.Actor
		staff bool
		sees  []string // customer ids whose contacts the actor finds
	}{
		{"the zero actor", store.Actor{}, false, nil},
		{"a literal that names a customer but was never constructed", store.Actor{Type: store.ActorUser, ID: "u", CustomerID: acme.ID}, false, nil},
		{"the public", store.Public("", "someone", "192.0.2.1"), false, nil},
		{"a customer user", store.CustomerUser("u", "a@acme.test", acme.ID, ""), false, []string{acme.ID}},
		{"a customer user without a customer", store.CustomerUser("u", "a@acme.test", "", ""), false, nil},
		{"a customer key", store.CustomerKey("k", "key", bolt.ID, ""), false, []string{bolt.ID}},
		{"a staff user", store.StaffUser("s", "s@sendara.example", ""), true, []string{acme.ID, bolt.ID}},
		{"a staff key", store.StaffKey("k", "staff key", ""), true, []string{acme.ID, bolt.ID}},
		{"a named system process", store.SystemProcess("mailbox", "privacy mailbox"), true, []string{acme.ID, bolt.ID}},
		{"a staff user kept to one customer", store.StaffUser("s", "", "").WithinTenant(bolt.ID), false, []string{bolt.ID}},
		{"a customer user kept to its own customer", store.CustomerUser("u", "", acme.ID, "").WithinTenant(acme.ID), false, []string{acme.ID}},
		{"a customer user kept to another customer", store.CustomerUser("u", "", acme.ID, "").WithinTenant(bolt.ID), false, nil},
		{"a staff user kept to no customer", store.StaffUser("s", "", "").WithinTenant(""), false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.actor.Staff(); got != tt.staff {
				t.Errorf("Staff() = %v, want %v", got, tt.staff)
			}
			var seen []string
			err := db.Gorm.WithContext(ctx).Model(&consent.Contact{}).Scopes(tt.actor.Tenant("customer_id")).
				Distinct("customer_id").Order("customer_id").Pluck("customer_id", &seen).Error
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Sorted(slices.Values(tt.sees))
			if !slices.Equal(seen, want) {
				t.Errorf("reaches customers %v, want %v", seen, want)
			}
		})
	}
}
