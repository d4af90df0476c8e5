package imports

import (
	"github.com/sendara/console/models/accounts"
	"github.com/sendara/console/models/consent"
	"github.com/sendara/console/models/customers"
	"github.com/sendara/console/models/hooks"
	"github.com/sendara/console/models/outbox"
	"github.com/sendara/console/models/store"
)

// ImportStore is this package's view of the store: the database and the
// stores of the packages it builds on.
type ImportStore struct {
	*store.DB
	*accounts.AccountStore
	*consent.ConsentStore
	*customers.CustomerStore
	*hooks.HookStore
	*outbox.OutboxStore
}
