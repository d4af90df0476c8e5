package cases

// Notifications for staff (issue 9, point 11): the notifications page,
// marking them read, and the mail preference on the account page.

import (
	"net/http"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/casepages"

	"github.com/labstack/echo/v4"
)

func (s *Handlers) notificationRoutes() []web.Route {
	get, post := http.MethodGet, http.MethodPost
	return []web.Route{
		{Method: get, Path: "/notifications", Handler: s.notifications, Access: web.Permitted, Perm: web.Can("notifications", "read")},
		{Method: post, Path: "/notifications/read-all", Handler: s.notificationsReadAll, Access: web.Permitted, Perm: web.Can("notifications", "write")},
		{Method: post, Path: "/notifications/:id/read", Handler: s.notificationRead, Access: web.Permitted, Perm: web.Can("notifications", "write")},
	}
}

// notifications lists the user's notifications, newest first (references
// and events, no names or identifiers).
func (s *Handlers) notifications(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	ns, err := s.DB.Notifications(ctx, a, c.QueryParam("unread") == "yes", 200)
	if err != nil {
		return err
	}
	mode, err := s.DB.NotificationMode(ctx, a)
	if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, casepages.NotificationsPage(casepages.Notifications{Items: ns, UnreadOnly: c.QueryParam("unread") == "yes",
		Mode: mode, Loc: s.Cfg.Location}))
}

func (s *Handlers) notificationRead(c echo.Context) error {
	if err := s.DB.MarkNotificationsRead(c.Request().Context(), web.Actor(c), c.Param("id")); err != nil {
		return err
	}
	if to := c.FormValue("then"); to == "dashboard" {
		return web.Redirect(c, "/")
	}
	return web.Redirect(c, "/notifications")
}

func (s *Handlers) notificationsReadAll(c echo.Context) error {
	if err := s.DB.MarkNotificationsRead(c.Request().Context(), web.Actor(c), ""); err != nil {
		return err
	}
	s.Flash(c, "All notifications marked read.")
	return web.Redirect(c, "/notifications")
}

// dashboardNotes is the dashboard's panel: the newest unread notifications.
func (s *Handlers) dashboardNotes(c echo.Context) (*casepages.DashboardNotes, error) {
	ctx, a := c.Request().Context(), web.Actor(c)
	n, err := s.DB.UnreadNotifications(ctx, a)
	if err != nil {
		return nil, err
	}
	items, err := s.DB.Notifications(ctx, a, true, 10)
	if err != nil {
		return nil, err
	}
	return &casepages.DashboardNotes{Unread: n, Items: items, Loc: s.Cfg.Location}, nil
}
