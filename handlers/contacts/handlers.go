// Package contacts holds the controller side's consent handlers: contacts
// and their consent, CSV imports and exports, replies and consent reversals.
package contacts

import "github.com/sendara/console/handlers/web"

// Handlers are this area's handlers; they share the server core, so a
// handler reaches the database, the session and rendering through it.
type Handlers struct{ *web.Server }
