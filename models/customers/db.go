// Package customers holds Sendara's customers, the tenants whose contacts
// the console keeps: their details, status and HELP reply text.
package customers

import (
	"github.com/sendara/console/models/store"
)

// CustomerStore is this package's view of the store: the database and the
// stores of the packages it builds on.
type CustomerStore struct {
	*store.DB
}
