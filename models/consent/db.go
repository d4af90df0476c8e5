// Package consent holds the people a customer may message and whether they
// may: contacts and their identifiers, the consent ledger and its one
// decision rule (DecideConsent), reversals that need approval, suppression
// checks and the in-memory index that answers them, replies and their
// keywords, the erased list and stop list (keyed hashes), legal holds on
// contacts, and the re-normalization of stored e-mail addresses.
package consent

import (
	"sync/atomic"

	"github.com/sendara/console/models/accounts"
	"github.com/sendara/console/models/customers"
	"github.com/sendara/console/models/hooks"
	"github.com/sendara/console/models/outbox"
	"github.com/sendara/console/models/store"
)

// ConsentStore is this package's view of the store: the database and the
// stores of the packages it builds on.
type ConsentStore struct {
	// suppressions answers suppression checks and API key lookups from
	// memory once StartSuppressionIndex has loaded it; nil until then.
	suppressions atomic.Pointer[suppressionIndex]

	*store.DB
	*accounts.AccountStore
	*customers.CustomerStore
	*hooks.HookStore
	*outbox.OutboxStore
}
