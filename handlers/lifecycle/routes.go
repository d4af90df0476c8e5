package lifecycle

import (
	"slices"

	"github.com/sendara/console/handlers/web"
)

// Routes is the lifecycle part of the route table.
func (s *Handlers) Routes() []web.Route {
	return slices.Concat(s.retentionRoutes(), s.lifecycleRoutes())
}
