package outbox

import (
	"github.com/sendara/console/models/store"
)

// OutboxStore is this package's view of the store: the database and the
// stores of the packages it builds on.
type OutboxStore struct {
	*store.DB
}
