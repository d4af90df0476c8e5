// Package accounts holds who may sign in and act: users and their roles,
// sessions, TOTP, invitations, password resets, API keys (scopes, expiry,
// rotation, usage), and the names the audit log shows for users and
// customers.
package accounts

import (
	"sync"

	"github.com/sendara/console/models/customers"
	"github.com/sendara/console/models/outbox"
	"github.com/sendara/console/models/store"
)

// AccountStore is this package's view of the store: the database and the
// stores of the packages it builds on.
type AccountStore struct {
	// keyTouches throttles API keys' last-used writes to one per key per
	// minute, so the suppression check, called before every message, does
	// not write on every call.
	keyTouches sync.Map

	*store.DB
	*customers.CustomerStore
	*outbox.OutboxStore
}
