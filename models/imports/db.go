// Package imports moves contacts and opt-outs in and out in bulk: CSV
// upload, column detection and parsing, import jobs (resumable), opt-in
// imports with evidence, contact exports, and bulk opt-outs (a Go path and a
// set-based PostgreSQL path held to consent.DecideConsent).
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
