package handlers

// fulfilmentRoutes is owned by the fulfilment work (issue 4, item 7).
func (s *Server) fulfilmentRoutes() []route { return nil }
