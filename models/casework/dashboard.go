package casework

import (
	accounts "github.com/sendara/console/models/accounts"
	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	requests "github.com/sendara/console/models/requests"

	"context"
	"fmt"
	"time"

	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// Figures are the dashboard's numbers for one actor, counted within what
// the actor may see.
type Figures struct {
	ActiveCustomers    int64
	CancelledCustomers int64
	Users              int64
	DisabledUsers      int64
	ActiveKeys         int64
	AuditEvents        int64 // all time, within the actor's tenant
	AuditEvents24h     int64
	FailedLogins24h    int64
	UsersWithoutTOTP   int64 // staff who have not enrolled yet
	Contacts           int64
	SuppressedContacts int64
	RepliesToReview    int64
	OpenRequests       int64
	OverdueRequests    int64
	PendingTasks       int64 // requests routed to a controller, not yet answered
}

// DashboardFigures counts what the dashboard shows.
func (db *CaseworkStore) DashboardFigures(ctx context.Context, actor store.Actor) (Figures, error) {
	var f Figures
	g := db.Gorm.WithContext(ctx)
	dayAgo := store.Now().Add(-24 * time.Hour)
	counts := []struct {
		dst   *int64
		model any
		scope string
		where string
		args  []any
	}{
		{&f.ActiveCustomers, &customers.Customer{}, "id", "status = ?", []any{customers.CustomerActive}},
		{&f.CancelledCustomers, &customers.Customer{}, "id", "status <> ?", []any{customers.CustomerActive}},
		{&f.Users, &accounts.User{}, "customer_id", "disabled_at IS NULL", nil},
		{&f.DisabledUsers, &accounts.User{}, "customer_id", "disabled_at IS NOT NULL", nil},
		{&f.ActiveKeys, &accounts.APIKey{}, "customer_id", "revoked_at IS NULL", nil},
		{&f.AuditEvents24h, &store.AuditEvent{}, "customer_id", "occurred_at > ?", []any{dayAgo}},
		{&f.FailedLogins24h, &store.AuditEvent{}, "customer_id", "action = 'user.login_failed' AND occurred_at > ?", []any{dayAgo}},
		{&f.UsersWithoutTOTP, &accounts.User{}, "customer_id", "customer_id IS NULL AND totp_enabled_at IS NULL AND disabled_at IS NULL", nil},
	}
	for _, c := range counts {
		if err := g.Model(c.model).Scopes(actor.Tenant(c.scope)).Where(c.where, c.args...).Count(c.dst).Error; err != nil {
			return f, fmt.Errorf("count for dashboard: %w", err)
		}
	}
	open := requests.OpenStatuses
	today := db.Business().Today()
	more := []struct {
		dst   *int64
		model any
		scope func(*gorm.DB) *gorm.DB
		where string
		args  []any
	}{
		{&f.Contacts, &consent.Contact{}, actor.Tenant("customer_id"), "anonymized_at IS NULL", nil},
		{&f.SuppressedContacts, &consent.Contact{}, actor.Tenant("customer_id"), "suppressed", nil},
		{&f.RepliesToReview, &consent.InboundReply{}, actor.Tenant("customer_id"), "action = ? AND reviewed_at IS NULL", []any{consent.ReplyReview}},
		{&f.OpenRequests, &requests.PrivacyRequest{}, requests.RequestScope(actor), "status IN ?", []any{open}},
		{&f.OverdueRequests, &requests.PrivacyRequest{}, requests.RequestScope(actor), "status IN ? AND COALESCE(extended_to, due_on) < ?", []any{open, today}},
		{&f.PendingTasks, &requests.RoutedTask{}, actor.Tenant("customer_id"), "status = ?", []any{requests.TaskPending}},
	}
	for _, c := range more {
		if err := g.Model(c.model).Scopes(c.scope).Where(c.where, c.args...).Count(c.dst).Error; err != nil {
			return f, fmt.Errorf("count for dashboard: %w", err)
		}
	}
	// The chain head gives the total without counting a large table.
	if actor.Staff() {
		var head store.AuditHead
		if err := g.First(&head, 1).Error; err != nil {
			return f, fmt.Errorf("read audit head: %w", err)
		}
		f.AuditEvents = head.Seq
	} else if err := g.Model(&store.AuditEvent{}).Scopes(actor.Tenant("customer_id")).Count(&f.AuditEvents).Error; err != nil {
		return f, fmt.Errorf("count audit events: %w", err)
	}
	return f, nil
}
