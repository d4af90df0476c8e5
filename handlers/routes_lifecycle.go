package handlers

import (
	"net/http"
	"slices"
)

// LifecycleRoutes is the lifecycle part of the route table.
func (s *Server) LifecycleRoutes() []route {
	get, post := http.MethodGet, http.MethodPost
	_, _ = get, post
	return append([]route{}, slices.Concat(s.retentionRoutes(), s.lifecycleRoutes())...)
}
