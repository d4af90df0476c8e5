package cases

import (
	"net/http"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/casepages"

	"github.com/labstack/echo/v4"
	calendar "github.com/sendara/console/models/calendar"
)

func (s *Handlers) dashboard(c echo.Context) error {
	f, err := s.DB.DashboardFigures(c.Request().Context(), web.Actor(c))
	if err != nil {
		return err
	}
	var notes *casepages.DashboardNotes
	if s.Allowed(c, "notifications", "read") {
		if notes, err = s.dashboardNotes(c); err != nil {
			return err
		}
	}
	today, err := s.DB.TodayFigures(c.Request().Context(), web.Actor(c), s.Cfg.Business, calendar.TodayIn(s.Cfg.Business.Loc))
	if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, casepages.DashboardPage(casepages.Dashboard{
		Today: today, StaffWork: web.Actor(c).Staff() && s.Allowed(c, "requests", "write"),
		AuditWork: s.Allowed(c, "audit", "verify"), CanImport: s.Allowed(c, "contacts", "import"), Loc: s.Cfg.Location,
		Staff:        web.Actor(c).Staff(),
		CanCustomers: s.Allowed(c, "customers", "read"),
		CanUsers:     s.Allowed(c, "users", "read"),
		CanKeys:      s.Allowed(c, "apikeys", "read"),
		CanAudit:     s.Allowed(c, "audit", "read"),
		CanContacts:  s.Allowed(c, "contacts", "read"),
		CanReplies:   s.Allowed(c, "replies", "read"),
		CanRequests:  s.Allowed(c, "requests", "read"),
		CanInbox:     s.Allowed(c, "routed_requests", "read"),
		Contacts:     f.Contacts, Suppressed: f.SuppressedContacts, ToReview: f.RepliesToReview,
		OpenRequests: f.OpenRequests, Overdue: f.OverdueRequests, PendingTasks: f.PendingTasks,
		ActiveCust: f.ActiveCustomers, CancelledCust: f.CancelledCustomers,
		Users: f.Users, DisabledUsers: f.DisabledUsers, ActiveKeys: f.ActiveKeys,
		AuditEvents: f.AuditEvents, AuditEvents24h: f.AuditEvents24h, FailedLogins: f.FailedLogins24h,
		NoTOTP: f.UsersWithoutTOTP, Notes: notes,
	}))
}
