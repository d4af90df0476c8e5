// Package hooks holds what the console tells customers' systems: webhook
// endpoints, events and their deliveries (signed by package webhooks), and
// the changes feed polling integrations read.
package hooks

import (
	"github.com/sendara/console/models/accounts"
	"github.com/sendara/console/models/customers"
	"github.com/sendara/console/models/outbox"
	"github.com/sendara/console/models/store"
)

// HookStore is this package's view of the store: the database and the
// stores of the packages it builds on.
type HookStore struct {
	*store.DB
	*accounts.AccountStore
	*customers.CustomerStore
	*outbox.OutboxStore
}
