package store

import "gorm.io/gorm"

// Actor is whoever performs an action: a signed-in user, an API key, a
// named process of the console, or the public. It decides what data an
// action may reach (Tenant) and is recorded on every audit event.
//
// Actors are made by the constructors below, never as literals: the zero
// Actor, like an actor whose reach was never decided, reaches no tenant's
// data at all, so a forgotten actor fails closed instead of seeing every
// tenant.
type Actor struct {
	Type  string // "user", "api_key", "system" or "public"
	ID    string
	Label string // email or key name, kept on the event so it stays readable
	IP    string
	// CustomerID is the tenant the actor belongs to; empty for Sendara staff
	// and staff keys, which act across tenants.
	CustomerID string

	Reach reach
}

// reach is how much tenant data an actor may read or change.
type reach uint8

const (
	reachNothing reach = iota // the zero value: no tenant's data
	reachTenant               // its own customer's data only
	ReachAll                  // every tenant's data (Sendara staff, the console itself)
)

// Actor types.
const (
	ActorUser   = "user"
	ActorAPIKey = "api_key"
	ActorSystem = "system"
	ActorPublic = "public"
)

// StaffUser is a Sendara staff member signed in from ip.
func StaffUser(id, email, ip string) Actor {
	return Actor{Type: ActorUser, ID: id, Label: email, IP: ip, Reach: ReachAll}
}

// CustomerUser is a user of customerID signed in from ip. Without a
// customer it reaches nothing.
func CustomerUser(id, email, customerID, ip string) Actor {
	return tenantActor(ActorUser, id, email, customerID, ip)
}

// StaffKey is a staff API key, which acts for Sendara across tenants.
func StaffKey(id, name, ip string) Actor {
	return Actor{Type: ActorAPIKey, ID: id, Label: name, IP: ip, Reach: ReachAll}
}

// CustomerKey is an API key of customerID. Without a customer it reaches
// nothing.
func CustomerKey(id, name, customerID, ip string) Actor {
	return tenantActor(ActorAPIKey, id, name, customerID, ip)
}

// SystemActor is the console acting on its own (migrations, demo seeding,
// the command line run by an operator on the server).
func SystemActor(label string) Actor { return SystemProcess("system", label) }

// SystemProcess is a named part of the console acting on its own (the
// privacy mailbox, the job runner). It acts across tenants.
func SystemProcess(id, label string) Actor {
	return Actor{Type: ActorSystem, ID: id, Label: label, Reach: ReachAll}
}

// From is the actor acting from ip.
func (a Actor) From(ip string) Actor {
	a.IP = ip
	return a
}

// Public is someone who has not signed in (the public request form, the
// holder of an emailed link, a sign-in attempt). It reaches no tenant's
// data; what it may do is decided by the secret it holds, not by scope.
func Public(id, label, ip string) Actor {
	return Actor{Type: ActorPublic, ID: id, Label: label, IP: ip}
}

// WithinTenant is the actor kept to customerID: a staff actor acting for
// one customer (a job a staff user started for that customer) reaches
// that customer only, and an actor of another customer reaches nothing.
func (a Actor) WithinTenant(customerID string) Actor {
	switch {
	case customerID == "":
		a.Reach = reachNothing
	case a.Reach == ReachAll || (a.Reach == reachTenant && a.CustomerID == customerID):
		a.CustomerID, a.Reach = customerID, reachTenant
	default:
		a.Reach = reachNothing
	}
	return a
}

// OnSendarasRecord is the actor writing to a record of Sendara's own on a
// customer's behalf: a controller's answer updates the privacy request,
// which belongs to no tenant. It is the one place where an actor's reach
// grows, so it stays unexported and named for its single use.
func (a Actor) OnSendarasRecord() Actor {
	a.CustomerID, a.Reach = "", ReachAll
	return a
}

func tenantActor(typ, id, label, customerID, ip string) Actor {
	a := Actor{Type: typ, ID: id, Label: label, IP: ip, CustomerID: customerID}
	if customerID != "" {
		a.Reach = reachTenant
	}
	return a
}

// Staff reports whether the actor acts for Sendara across all tenants.
func (a Actor) Staff() bool { return a.Reach == ReachAll }

// Tenant scopes a query on a tenant-owned table to the actor's reach.
// Staff actors see every tenant; a customer actor sees only its own rows,
// so another tenant's row is simply not found; an actor without reach (the
// public, a zero Actor) finds no row at all. Every query on a table with a
// customer_id column goes through this scope.
func (a Actor) Tenant(column string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		switch a.Reach {
		case ReachAll:
			return db
		case reachTenant:
			return db.Where(column+" = ?", a.CustomerID)
		default:
			return db.Where("1 = 0")
		}
	}
}
