package admin

import (
	"github.com/labstack/echo/v4"
	"github.com/sendara/console/handlers/web"
)

// customerReactivate brings a cancelled customer back within its
// reactivation window; after it the model answers 409 with the date the
// window ended.
func (s *Handlers) customerReactivate(c echo.Context) error {
	id := c.Param("id")
	if err := s.DB.ReactivateCustomer(c.Request().Context(), web.Actor(c), id); err != nil {
		return err
	}
	s.Flash(c, "Customer reactivated: its users, keys and data are back, and its admins are told.")
	return web.Redirect(c, "/customers/"+id)
}
