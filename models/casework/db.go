// Package casework is how staff work and prove the requests: the queue
// (filters, saved views, bulk assignment, CSV), the §7101/§7102 reports and
// the auditor's evidence reports, case files, and the dashboards.
package casework

import (
	"github.com/sendara/console/models/accounts"
	"github.com/sendara/console/models/consent"
	"github.com/sendara/console/models/customers"
	"github.com/sendara/console/models/fulfilment"
	"github.com/sendara/console/models/hooks"
	"github.com/sendara/console/models/imports"
	"github.com/sendara/console/models/outbox"
	"github.com/sendara/console/models/requests"
	"github.com/sendara/console/models/store"
)

// CaseworkStore is this package's view of the store: the database and the
// stores of the packages it builds on.
type CaseworkStore struct {
	*store.DB
	*accounts.AccountStore
	*consent.ConsentStore
	*customers.CustomerStore
	*fulfilment.FulfilmentStore
	*hooks.HookStore
	*imports.ImportStore
	*outbox.OutboxStore
	*requests.RequestStore
}
