package models_test

import (
	"slices"
	"testing"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
)

// Each kind of actor reaches exactly the tenants its constructor gives it,
// and an actor nobody constructed reaches none: a forgotten actor fails
// closed instead of seeing every tenant.
func TestActorsReachOnlyWhatTheirConstructorGrants(t *testing.T) {
	db := modeltest.Open(t)
	ctx := t.Context()
	acme, bolt := newCustomer(t, db, "acme"), newCustomer(t, db, "bolt")
	for _, c := range []*models.Customer{acme, bolt} {
		if _, err := db.CreateContact(ctx, modeltest.Staff, c.ID, models.ContactInput{Identifiers: []string{"+14155550100"}}, "US"); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		actor models.Actor
		staff bool
		sees  []string // customer ids whose contacts the actor finds
	}{
		{"the zero actor", models.Actor{}, false, nil},
		{"a literal that names a customer but was never constructed", models.Actor{Type: models.ActorUser, ID: "u", CustomerID: acme.ID}, false, nil},
		{"the public", models.Public("", "someone", "192.0.2.1"), false, nil},
		{"a customer user", models.CustomerUser("u", "a@acme.test", acme.ID, ""), false, []string{acme.ID}},
		{"a customer user without a customer", models.CustomerUser("u", "a@acme.test", "", ""), false, nil},
		{"a customer key", models.CustomerKey("k", "key", bolt.ID, ""), false, []string{bolt.ID}},
		{"a staff user", models.StaffUser("s", "s@sendara.example", ""), true, []string{acme.ID, bolt.ID}},
		{"a staff key", models.StaffKey("k", "staff key", ""), true, []string{acme.ID, bolt.ID}},
		{"a named system process", models.SystemProcess("mailbox", "privacy mailbox"), true, []string{acme.ID, bolt.ID}},
		{"a staff user kept to one customer", models.StaffUser("s", "", "").WithinTenant(bolt.ID), false, []string{bolt.ID}},
		{"a customer user kept to its own customer", models.CustomerUser("u", "", acme.ID, "").WithinTenant(acme.ID), false, []string{acme.ID}},
		{"a customer user kept to another customer", models.CustomerUser("u", "", acme.ID, "").WithinTenant(bolt.ID), false, nil},
		{"a staff user kept to no customer", models.StaffUser("s", "", "").WithinTenant(""), false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.actor.Staff(); got != tt.staff {
				t.Errorf("Staff() = %v, want %v", got, tt.staff)
			}
			var seen []string
			err := db.Gorm.WithContext(ctx).Model(&models.Contact{}).Scopes(tt.actor.Tenant("customer_id")).
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
