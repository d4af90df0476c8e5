package handlers

import (
	"github.com/labstack/echo/v4"
)

// customerReactivate brings a cancelled customer back within its
// reactivation window; after it the model answers 409 with the date the
// window ended.
func (s *Server) customerReactivate(c echo.Context) error {
	id := c.Param("id")
	if err := s.db.ReactivateCustomer(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	s.flash(c, "Customer reactivated: its users, keys and data are back, and its admins are told.")
	return redirect(c, "/customers/"+id)
}
