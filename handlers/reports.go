package handlers

// reportRoutes is owned by the reports work (issue 4, items 9-10).
func (s *Server) reportRoutes() []route { return nil }
