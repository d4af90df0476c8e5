package models

import (
	"context"
	"fmt"
	"time"

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
func (db *DB) DashboardFigures(ctx context.Context, actor Actor) (Figures, error) {
	var f Figures
	g := db.Gorm.WithContext(ctx)
	dayAgo := Now().Add(-24 * time.Hour)
	counts := []struct {
		dst   *int64
		model any
		scope string
		where string
		args  []any
	}{
		{&f.ActiveCustomers, &Customer{}, "id", "status = ?", []any{CustomerActive}},
		{&f.CancelledCustomers, &Customer{}, "id", "status <> ?", []any{CustomerActive}},
		{&f.Users, &User{}, "customer_id", "disabled_at IS NULL", nil},
		{&f.DisabledUsers, &User{}, "customer_id", "disabled_at IS NOT NULL", nil},
		{&f.ActiveKeys, &APIKey{}, "customer_id", "revoked_at IS NULL", nil},
		{&f.AuditEvents24h, &AuditEvent{}, "customer_id", "occurred_at > ?", []any{dayAgo}},
		{&f.FailedLogins24h, &AuditEvent{}, "customer_id", "action = 'user.login_failed' AND occurred_at > ?", []any{dayAgo}},
		{&f.UsersWithoutTOTP, &User{}, "customer_id", "customer_id IS NULL AND totp_enabled_at IS NULL AND disabled_at IS NULL", nil},
	}
	for _, c := range counts {
		if err := g.Model(c.model).Scopes(actor.Tenant(c.scope)).Where(c.where, c.args...).Count(c.dst).Error; err != nil {
			return f, fmt.Errorf("count for dashboard: %w", err)
		}
	}
	open := OpenStatuses
	today := db.Business().Today()
	more := []struct {
		dst   *int64
		model any
		scope func(*gorm.DB) *gorm.DB
		where string
		args  []any
	}{
		{&f.Contacts, &Contact{}, actor.Tenant("customer_id"), "anonymized_at IS NULL", nil},
		{&f.SuppressedContacts, &Contact{}, actor.Tenant("customer_id"), "suppressed", nil},
		{&f.RepliesToReview, &InboundReply{}, actor.Tenant("customer_id"), "action = ? AND reviewed_at IS NULL", []any{ReplyReview}},
		{&f.OpenRequests, &PrivacyRequest{}, requestScope(actor), "status IN ?", []any{open}},
		{&f.OverdueRequests, &PrivacyRequest{}, requestScope(actor), "status IN ? AND COALESCE(extended_to, due_on) < ?", []any{open, today}},
		{&f.PendingTasks, &RoutedTask{}, actor.Tenant("customer_id"), "status = ?", []any{TaskPending}},
	}
	for _, c := range more {
		if err := g.Model(c.model).Scopes(c.scope).Where(c.where, c.args...).Count(c.dst).Error; err != nil {
			return f, fmt.Errorf("count for dashboard: %w", err)
		}
	}
	// The chain head gives the total without counting a large table.
	if actor.Staff() {
		var head auditHead
		if err := g.First(&head, 1).Error; err != nil {
			return f, fmt.Errorf("read audit head: %w", err)
		}
		f.AuditEvents = head.Seq
	} else if err := g.Model(&AuditEvent{}).Scopes(actor.Tenant("customer_id")).Count(&f.AuditEvents).Error; err != nil {
		return f, fmt.Errorf("count audit events: %w", err)
	}
	return f, nil
}
