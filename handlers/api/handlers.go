// Package api holds the JSON API's handlers: suppression checks, opt-outs
// and opt-ins, inbound replies, contacts, consent at a point in time and
// privacy requests, and the OpenAPI document describing them.
package api

import "github.com/sendara/console/handlers/web"

// Handlers are this area's handlers; they share the server core, so a
// handler reaches the database, the session and rendering through it.
type Handlers struct{ *web.Server }
