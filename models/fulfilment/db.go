// Package fulfilment carries out and completes privacy requests: erasure
// (with legal holds), export bundles, the actions recorded per controller,
// status changes and the outcome they certify, and messages to the
// requester with their status page.
package fulfilment

import (
	"github.com/sendara/console/models/accounts"
	"github.com/sendara/console/models/consent"
	"github.com/sendara/console/models/customers"
	"github.com/sendara/console/models/hooks"
	"github.com/sendara/console/models/imports"
	"github.com/sendara/console/models/outbox"
	"github.com/sendara/console/models/requests"
	"github.com/sendara/console/models/store"
)

// FulfilmentStore is this package's view of the store: the database and the
// stores of the packages it builds on.
type FulfilmentStore struct {
	*store.DB
	*accounts.AccountStore
	*consent.ConsentStore
	*customers.CustomerStore
	*hooks.HookStore
	*imports.ImportStore
	*outbox.OutboxStore
	*requests.RequestStore
}
