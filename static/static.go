// Package static embeds the console's stylesheet and vendored scripts, so
// the binary serves them itself: no CDN, no Node.js at build time.
package static

import "embed"

// FS holds css/, vendor/ (htmx 2.0.11, BSD-0 licence in vendor/) and the icon.
//
//go:embed css vendor favicon.svg
var FS embed.FS
