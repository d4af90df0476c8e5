// Package lifecycle holds the registers' handlers: communications sent
// after an opt-out, incidents, sub-processors, Art. 30 records, legal
// disclosures, account bundles and retention.
package lifecycle

import "github.com/sendara/console/handlers/web"

// Handlers are this area's handlers; they share the server core, so a
// handler reaches the database, the session and rendering through it.
type Handlers struct{ *web.Server }
