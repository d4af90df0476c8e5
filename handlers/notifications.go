package handlers

// Notifications for staff (issue 9, point 11): the notifications page,
// marking them read, and the mail preference on the account page.

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sendara/console/views"
)

func (s *Server) notificationRoutes() []route {
	get, post := http.MethodGet, http.MethodPost
	return []route{
		{Method: get, Path: "/notifications", Handler: s.notifications, Access: permitted, Perm: can("notifications", "read")},
		{Method: post, Path: "/notifications/read-all", Handler: s.notificationsReadAll, Access: permitted, Perm: can("notifications", "write")},
		{Method: post, Path: "/notifications/:id/read", Handler: s.notificationRead, Access: permitted, Perm: can("notifications", "write")},
	}
}

// notifications lists the user's notifications, newest first (references
// and events, no names or identifiers).
func (s *Server) notifications(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	ns, err := s.db.Notifications(ctx, a, c.QueryParam("unread") == "yes", 200)
	if err != nil {
		return err
	}
	mode, err := s.db.NotificationMode(ctx, a)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.NotificationsPage(views.Notifications{Items: ns, UnreadOnly: c.QueryParam("unread") == "yes",
		Mode: mode, Loc: s.cfg.Location}))
}

func (s *Server) notificationRead(c echo.Context) error {
	if err := s.db.MarkNotificationsRead(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	if to := c.FormValue("then"); to == "dashboard" {
		return redirect(c, "/")
	}
	return redirect(c, "/notifications")
}

func (s *Server) notificationsReadAll(c echo.Context) error {
	if err := s.db.MarkNotificationsRead(c.Request().Context(), actor(c), ""); err != nil {
		return err
	}
	s.flash(c, "All notifications marked read.")
	return redirect(c, "/notifications")
}

// dashboardNotes is the dashboard's panel: the newest unread notifications.
func (s *Server) dashboardNotes(c echo.Context) (*views.DashboardNotes, error) {
	ctx, a := c.Request().Context(), actor(c)
	n, err := s.db.UnreadNotifications(ctx, a)
	if err != nil {
		return nil, err
	}
	items, err := s.db.Notifications(ctx, a, true, 10)
	if err != nil {
		return nil, err
	}
	return &views.DashboardNotes{Unread: n, Items: items, Loc: s.cfg.Location}, nil
}
