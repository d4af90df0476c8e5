// Package cases holds the privacy-request handlers: the public form, intake
// and mail, triage and verification, routing, fulfilment, messages to the
// requester, the queue, notifications, reports and case files.
package cases

import "github.com/sendara/console/handlers/web"

// Handlers are this area's handlers; they share the server core, so a
// handler reaches the database, the session and rendering through it.
type Handlers struct{ *web.Server }
