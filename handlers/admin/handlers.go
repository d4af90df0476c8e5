// Package admin holds the handlers for signing in and for running the
// console: accounts, users and roles, API keys, customers, webhooks and the
// audit log.
package admin

import "github.com/sendara/console/handlers/web"

// Handlers are this area's handlers; they share the server core, so a
// handler reaches the database, the session and rendering through it.
type Handlers struct{ *web.Server }
