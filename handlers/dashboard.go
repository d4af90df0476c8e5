package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
	calendar "github.com/sendara/console/models/calendar"
	"github.com/sendara/console/views"
)

func (s *Server) dashboard(c echo.Context) error {
	f, err := s.db.DashboardFigures(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	var notes *views.DashboardNotes
	if s.allowed(c, "notifications", "read") {
		if notes, err = s.dashboardNotes(c); err != nil {
			return err
		}
	}
	today, err := s.db.TodayFigures(c.Request().Context(), actor(c), s.cfg.Business, calendar.TodayIn(s.cfg.Business.Loc))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.DashboardPage(views.Dashboard{
		Today: today, StaffWork: actor(c).Staff() && s.allowed(c, "requests", "write"),
		AuditWork: s.allowed(c, "audit", "verify"), CanImport: s.allowed(c, "contacts", "import"), Loc: s.cfg.Location,
		Staff:        actor(c).Staff(),
		CanCustomers: s.allowed(c, "customers", "read"),
		CanUsers:     s.allowed(c, "users", "read"),
		CanKeys:      s.allowed(c, "apikeys", "read"),
		CanAudit:     s.allowed(c, "audit", "read"),
		CanContacts:  s.allowed(c, "contacts", "read"),
		CanReplies:   s.allowed(c, "replies", "read"),
		CanRequests:  s.allowed(c, "requests", "read"),
		CanInbox:     s.allowed(c, "routed_requests", "read"),
		Contacts:     f.Contacts, Suppressed: f.SuppressedContacts, ToReview: f.RepliesToReview,
		OpenRequests: f.OpenRequests, Overdue: f.OverdueRequests, PendingTasks: f.PendingTasks,
		ActiveCust: f.ActiveCustomers, CancelledCust: f.CancelledCustomers,
		Users: f.Users, DisabledUsers: f.DisabledUsers, ActiveKeys: f.ActiveKeys,
		AuditEvents: f.AuditEvents, AuditEvents24h: f.AuditEvents24h, FailedLogins: f.FailedLogins24h,
		NoTOTP: f.UsersWithoutTOTP, Notes: notes,
	}))
}
