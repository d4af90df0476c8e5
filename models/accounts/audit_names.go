package accounts

import (
	"context"
	"fmt"

	customers "github.com/sendara/console/models/customers"
	store "github.com/sendara/console/models/store"
)

// AuditNamesFor resolves the users and customers a page of audit entries
// names, in one query for each, whatever the page's length. Only what the
// actor may see is resolved (tenant scoping in the query): a customer
// admin gets its own users' and its own customer's names, and an id it
// may not resolve keeps its label from the entry alone.
func (db *AccountStore) AuditNamesFor(ctx context.Context, actor store.Actor, events []store.AuditEvent) (store.AuditNames, error) {
	names := store.AuditNames{Users: map[string]string{}, Customers: map[string]string{}}
	userSet, custSet := map[string]bool{}, map[string]bool{}
	var users, custs []string
	for _, e := range events {
		if e.ActorType == store.ActorUser && store.ValidID(e.ActorID) && !userSet[e.ActorID] {
			userSet[e.ActorID] = true
			users = append(users, e.ActorID)
		}
		if store.ValidID(e.CustomerID) && !custSet[e.CustomerID] {
			custSet[e.CustomerID] = true
			custs = append(custs, e.CustomerID)
		}
	}
	g := db.Gorm.WithContext(ctx)
	if len(users) > 0 {
		var rows []struct{ ID, Name, Email string }
		if err := g.Model(&User{}).Scopes(actor.Tenant("customer_id")).Select("id, name, email").
			Where("id IN ?", users).Find(&rows).Error; err != nil {
			return names, fmt.Errorf("audit user names: %w", err)
		}
		for _, r := range rows {
			if r.Name != "" {
				names.Users[r.ID] = r.Name
			} else {
				names.Users[r.ID] = r.Email
			}
		}
	}
	if len(custs) > 0 {
		var rows []struct{ ID, Name string }
		if err := g.Model(&customers.Customer{}).Scopes(actor.Tenant("id")).Select("id, name").
			Where("id IN ?", custs).Find(&rows).Error; err != nil {
			return names, fmt.Errorf("audit customer names: %w", err)
		}
		for _, r := range rows {
			names.Customers[r.ID] = r.Name
		}
	}
	return names, nil
}
