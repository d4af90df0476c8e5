// Package requests is a privacy request from arrival to routing: intake
// (forms, the mailbox, threading), identity verification and proofs of
// authority, duplicates, routing to the controllers holding the person's
// data, pauses, notifications to staff, and the purpose of access.
package requests

import (
	"github.com/sendara/console/models/accounts"
	"github.com/sendara/console/models/consent"
	"github.com/sendara/console/models/customers"
	"github.com/sendara/console/models/hooks"
	"github.com/sendara/console/models/outbox"
	"github.com/sendara/console/models/store"
)

// RequestStore is this package's view of the store: the database and the
// stores of the packages it builds on.
type RequestStore struct {
	*store.DB
	*accounts.AccountStore
	*consent.ConsentStore
	*customers.CustomerStore
	*hooks.HookStore
	*outbox.OutboxStore
}
