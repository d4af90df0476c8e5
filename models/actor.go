package models

import "gorm.io/gorm"

// Actor is whoever performs an action: a signed-in user, an API key or the
// console itself. It decides what data an action may reach (Tenant) and is
// recorded on every audit event.
type Actor struct {
	Type  string // "user", "api_key" or "system"
	ID    string
	Label string // email or key name, kept on the event so it stays readable
	IP    string
	// CustomerID is the tenant the actor belongs to; empty for Sendara staff
	// and staff keys, which act across tenants.
	CustomerID string
}

// Actor types.
const (
	ActorUser   = "user"
	ActorAPIKey = "api_key"
	ActorSystem = "system"
)

// SystemActor is the console acting on its own (migrations, demo seeding,
// the command line run by an operator on the server).
func SystemActor(label string) Actor { return Actor{Type: ActorSystem, ID: "system", Label: label} }

// Staff reports whether the actor acts for Sendara across all tenants.
func (a Actor) Staff() bool { return a.CustomerID == "" }

// Tenant scopes a query on a tenant-owned table to the actor's customer.
// Staff actors see every tenant; a customer actor sees only its own rows,
// so another tenant's row is simply not found. Every query on a table with
// a customer_id column goes through this scope.
func (a Actor) Tenant(column string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if a.Staff() {
			return db
		}
		return db.Where(column+" = ?", a.CustomerID)
	}
}
