// Package registers keeps the records the policy promises beyond requests:
// incidents and breach notices, sub-processors and policy versions, legal
// disclosures, Art 30(2) records, communications sent, account bundles,
// retention and legal holds over time, and cancelled customers.
package registers

import (
	"github.com/sendara/console/models/accounts"
	"github.com/sendara/console/models/casework"
	"github.com/sendara/console/models/consent"
	"github.com/sendara/console/models/customers"
	"github.com/sendara/console/models/fulfilment"
	"github.com/sendara/console/models/hooks"
	"github.com/sendara/console/models/imports"
	"github.com/sendara/console/models/outbox"
	"github.com/sendara/console/models/requests"
	"github.com/sendara/console/models/store"
)

// RegisterStore is this package's view of the store: the database and the
// stores of the packages it builds on.
type RegisterStore struct {
	*store.DB
	*accounts.AccountStore
	*casework.CaseworkStore
	*consent.ConsentStore
	*customers.CustomerStore
	*fulfilment.FulfilmentStore
	*hooks.HookStore
	*imports.ImportStore
	*outbox.OutboxStore
	*requests.RequestStore
}
