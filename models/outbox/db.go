// Package outbox is the console's outgoing mail: the queue the mailer
// sends from, and the templates of every mail the console writes.
package outbox

import (
	"github.com/sendara/console/models/store"
)

// OutboxStore is this package's view of the store: the database and the
// stores of the packages it builds on.
type OutboxStore struct {
	*store.DB
}
