package requests

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	errs "github.com/sendara/console/models/errs"

	outbox "github.com/sendara/console/models/outbox"

	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Notification kinds.
const (
	NotifyControllerAnswered = "controller_answered"
	NotifyMailIn             = "mail_in"
	NotifyAssigned           = "assigned"
	NotifyAckDue             = "ack_due"
	NotifyAnswerDue          = "answer_due"
	NotifyTaskOverdue        = "task_overdue"
)

// Notification modes: each notification mailed at once, or a daily digest.
const (
	NotifyByMail   = "mail"
	NotifyByDigest = "digest"
)

// NotifyDueWithin is how many business days ahead a due date notifies.
const NotifyDueWithin = 2

// Notification is one notice to one staff user.
type Notification struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	RequestID *string
	Kind      string
	Text      string
	DedupeKey string
	CreatedAt time.Time
	ReadAt    *time.Time
	MailID    *string
}

// TableName is the notifications table.
func (Notification) TableName() string { return "notifications" }

type notificationPreference struct {
	UserID    string `gorm:"primaryKey"`
	Mode      string
	UpdatedAt time.Time
}

func (notificationPreference) TableName() string { return "notification_preferences" }

type notificationDigest struct {
	UserID    string `gorm:"primaryKey"`
	Day       string `gorm:"primaryKey"`
	MailID    *string
	CreatedAt time.Time
}

func (notificationDigest) TableName() string { return "notification_digests" }

// notifyRequest notifies the people who work a request: its assignee when
// it has one who can act, otherwise every active staff admin and privacy
// officer.
func notifyRequest(tx *store.Tx, r *PrivacyRequest, kind, text, dedupe string) (int, error) {
	var users []string
	if r.AssigneeID != nil {
		err := tx.G.Model(&accounts.User{}).Where("id = ? AND customer_id IS NULL AND disabled_at IS NULL AND id IN (SELECT user_id FROM role_assignments WHERE role IN ?)",
			*r.AssigneeID, ActingRoles).Pluck("id", &users).Error
		if err != nil {
			return 0, fmt.Errorf("find who to notify: %w", err)
		}
	}
	if len(users) == 0 {
		err := tx.G.Model(&accounts.User{}).Where("customer_id IS NULL AND disabled_at IS NULL AND id IN (SELECT user_id FROM role_assignments WHERE role IN ?)",
			ActingRoles).Order("id").Pluck("id", &users).Error
		if err != nil {
			return 0, fmt.Errorf("find who to notify: %w", err)
		}
	}
	return notifyUsers(tx, users, r, kind, text, dedupe)
}

// notifyUsers writes one notification per user and, for users who want
// each at once, queues its mail in the same transaction. With a dedupe
// key a user gets it once: a second call with the same key does nothing.
func notifyUsers(tx *store.Tx, users []string, r *PrivacyRequest, kind, text, dedupe string) (int, error) {
	written := 0
	for _, uid := range users {
		n := Notification{ID: uuid.Must(uuid.NewV7()).String(), UserID: uid, Kind: kind, Text: text, CreatedAt: store.Now()}
		if r != nil {
			n.RequestID = &r.ID
		}
		n.DedupeKey = n.ID
		if dedupe != "" {
			n.DedupeKey = dedupe
		}
		res := tx.G.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "user_id"}, {Name: "dedupe_key"}}, DoNothing: true}).Create(&n)
		if res.Error != nil {
			return written, fmt.Errorf("write notification: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			continue // already told
		}
		written++
		var u accounts.User
		if err := tx.G.Select("id", "email").First(&u, "id = ?", uid).Error; err != nil {
			return written, fmt.Errorf("find the notified user: %w", err)
		}
		mode, err := notificationMode(tx.G, uid)
		if err != nil {
			return written, err
		}
		if mode != NotifyByMail {
			continue
		}
		mailID := uuid.Must(uuid.NewV7()).String()
		body := text + "\n\nSign in to the Sendara Privacy Console to see it (Notifications, or search the reference on Requests).\n" +
			"You can choose one digest mail a day instead on your account page.\n"
		if err := outbox.QueueMail(tx, outbox.OutboundMail{ID: mailID, Kind: outbox.MailOther, To: u.Email, Subject: "[Sendara] " + store.Truncate(text, 200), Body: body}); err != nil {
			return written, err
		}
		if err := tx.G.Model(&Notification{}).Where("id = ?", n.ID).Update("mail_id", mailID).Error; err != nil {
			return written, fmt.Errorf("link notification mail: %w", err)
		}
	}
	return written, nil
}

func notificationMode(g *gorm.DB, userID string) (string, error) {
	var p notificationPreference
	err := g.First(&p, "user_id = ?", userID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return NotifyByMail, nil
	}
	if err != nil {
		return "", fmt.Errorf("read notification preference: %w", err)
	}
	return p.Mode, nil
}

// NotificationMode is how the actor wants notifications mailed.
func (db *RequestStore) NotificationMode(ctx context.Context, actor store.Actor) (string, error) {
	return notificationMode(db.Gorm.WithContext(ctx), actor.ID)
}

// SetNotificationMode sets how the actor (a staff user) wants
// notifications mailed: each at once, or one digest a day. Audited as
// user.notification_mode.
func (db *RequestStore) SetNotificationMode(ctx context.Context, actor store.Actor, mode string) error {
	if mode != NotifyByMail && mode != NotifyByDigest {
		return errs.Invalid("mode", "choose mail or digest")
	}
	if actor.Type != store.ActorUser || !actor.Staff() {
		return errs.Invalid("mode", "only Sendara staff get notifications")
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		p := notificationPreference{UserID: actor.ID, Mode: mode, UpdatedAt: store.Now()}
		if err := tx.G.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"mode", "updated_at"})}).Create(&p).Error; err != nil {
			return fmt.Errorf("save notification preference: %w", err)
		}
		tx.Audit(store.Audit{Action: "user.notification_mode", ObjectType: "user", ObjectID: actor.ID, Details: map[string]any{"mode": mode}})
		return nil
	})
}

// Notifications lists the actor's notifications, newest first; unreadOnly
// keeps the unread ones.
func (db *RequestStore) Notifications(ctx context.Context, actor store.Actor, unreadOnly bool, limit int) ([]Notification, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	q := db.Gorm.WithContext(ctx).Where("user_id = ?", actor.ID)
	if unreadOnly {
		q = q.Where("read_at IS NULL")
	}
	var ns []Notification
	if err := q.Order("created_at DESC, id DESC").Limit(limit).Find(&ns).Error; err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	return ns, nil
}

// UnreadNotifications counts the actor's unread notifications.
func (db *RequestStore) UnreadNotifications(ctx context.Context, actor store.Actor) (int64, error) {
	var n int64
	err := db.Gorm.WithContext(ctx).Model(&Notification{}).Where("user_id = ? AND read_at IS NULL", actor.ID).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count notifications: %w", err)
	}
	return n, nil
}

// MarkNotificationsRead marks the actor's notifications read: the one
// with id, or all with "". Another user's notification is not found.
func (db *RequestStore) MarkNotificationsRead(ctx context.Context, actor store.Actor, id string) error {
	q := db.Gorm.WithContext(ctx).Model(&Notification{}).Where("user_id = ? AND read_at IS NULL", actor.ID)
	if id != "" {
		if !store.ValidID(id) {
			return store.ErrNotFound
		}
		var n int64
		if err := db.Gorm.WithContext(ctx).Model(&Notification{}).Where("user_id = ? AND id = ?", actor.ID, id).Count(&n).Error; err != nil {
			return fmt.Errorf("find notification: %w", err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		q = q.Where("id = ?", id)
	}
	if err := q.Update("read_at", store.Now()).Error; err != nil {
		return fmt.Errorf("mark notifications read: %w", err)
	}
	return nil
}

// DueNotifications writes the periodic notifications for today (a date in
// the business time zone): an acknowledgement not yet sent or an answer
// due within NotifyDueWithin business days (or already past due), and a
// controller's task past its date. Each is written once per request, kind
// and day, however often and on however many instances this runs. It
// returns how many notifications it wrote.
func (db *RequestStore) DueNotifications(ctx context.Context, biz calendar.Business, today calendar.Date) (int, error) {
	limit := biz.Calendar.BusinessDaysAfter(today, NotifyDueWithin).String()
	day := today.String()
	g := db.Gorm.WithContext(ctx)
	var ackDue, answerDue []PrivacyRequest
	sentAck := "id NOT IN (SELECT request_id FROM outbox WHERE request_id IS NOT NULL AND kind = ? AND status = ?)"
	if err := g.Where("status IN ? AND status <> ? AND ack_due_on IS NOT NULL AND ack_due_on <= ?", OpenStatuses, StatusWaiting, limit).
		Where(NotDuplicate).Where(sentAck, outbox.MailAcknowledgement, outbox.MailSent).Order("ack_due_on, id").Limit(1000).Find(&ackDue).Error; err != nil {
		return 0, fmt.Errorf("find acknowledgements due: %w", err)
	}
	if err := g.Where("status IN ? AND status <> ? AND "+DueInForce+" <= ?", OpenStatuses, StatusWaiting, limit).
		Where(NotDuplicate).Order(DueInForce + ", id").Limit(1000).Find(&answerDue).Error; err != nil {
		return 0, fmt.Errorf("find answers due: %w", err)
	}
	type overdueTask struct {
		RoutedTask
		Name string
	}
	var tasks []overdueTask
	if err := g.Table("routed_tasks").Select("routed_tasks.*, customers.name AS name").
		Joins("JOIN customers ON customers.id = routed_tasks.customer_id").
		Joins("JOIN privacy_requests pr ON pr.id = routed_tasks.request_id").
		Where("routed_tasks.status = ? AND routed_tasks.due_on < ? AND pr.status IN ?", TaskPending, day, OpenStatuses).
		Order("routed_tasks.due_on, routed_tasks.id").Limit(1000).Scan(&tasks).Error; err != nil {
		return 0, fmt.Errorf("find overdue tasks: %w", err)
	}
	written := 0
	run := func(requestID, kind, dedupe string, text func(r *PrivacyRequest) string) error {
		return db.Tx(ctx, notifierActor, func(tx *store.Tx) error {
			var r PrivacyRequest
			if err := tx.G.First(&r, "id = ?", requestID).Error; err != nil {
				return store.NotFound(err)
			}
			n, err := notifyRequest(tx, &r, kind, text(&r), dedupe)
			written += n
			return err
		})
	}
	for _, r := range ackDue {
		err := run(r.ID, NotifyAckDue, strings.Join([]string{NotifyAckDue, r.ID, day}, "|"), func(r *PrivacyRequest) string {
			return fmt.Sprintf("%s: the acknowledgement %s on %s and has not been sent.", r.Reference, dueWord(*r.AckDueOn, today), *r.AckDueOn)
		})
		if err != nil {
			return written, err
		}
	}
	for _, r := range answerDue {
		err := run(r.ID, NotifyAnswerDue, strings.Join([]string{NotifyAnswerDue, r.ID, day}, "|"), func(r *PrivacyRequest) string {
			return fmt.Sprintf("%s: the answer to the requester %s on %s.", r.Reference, dueWord(r.EffectiveDueOn(), today), r.EffectiveDueOn())
		})
		if err != nil {
			return written, err
		}
	}
	for _, t := range tasks {
		err := run(t.RequestID, NotifyTaskOverdue, strings.Join([]string{NotifyTaskOverdue, t.ID, day}, "|"), func(r *PrivacyRequest) string {
			return fmt.Sprintf("%s: %s has not answered; its answer was due on %s.", r.Reference, t.Name, t.DueOn)
		})
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

func dueWord(due, today calendar.Date) string {
	if due.Before(today) {
		return "was due"
	}
	return "is due"
}

// notifierActor is who the periodic notifications and digests are in the
// audit log.
var notifierActor = store.SystemProcess("notifier", "notifier")

// DigestLookback is how many past days a digest run still builds missing
// digests for.
const DigestLookback = 7

// NotificationDigests builds the digest mails of the days before today
// (business dates): one mail per user who chose the digest and day they
// had notifications, listing them. The (user, day) row is the claim,
// written with the mail, so several instances never send one twice.
// baseURL, if set, makes the references links. It returns the mails
// queued.
func (db *RequestStore) NotificationDigests(ctx context.Context, biz calendar.Business, today calendar.Date, baseURL string) (int, error) {
	queued := 0
	for back := DigestLookback; back >= 1; back-- {
		day := today.AddDays(-back)
		start := time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, biz.Loc).UTC()
		end := time.Date(day.Year, day.Month, day.Day+1, 0, 0, 0, 0, biz.Loc).UTC()
		var users []string
		err := db.Gorm.WithContext(ctx).Model(&Notification{}).Distinct("user_id").
			Where("created_at >= ? AND created_at < ?", start, end).
			Where("user_id IN (SELECT user_id FROM notification_preferences WHERE mode = ?)", NotifyByDigest).
			Where("user_id NOT IN (SELECT user_id FROM notification_digests WHERE day = ?)", day.String()).
			Order("user_id").Pluck("user_id", &users).Error
		if err != nil {
			return queued, fmt.Errorf("find digests to build: %w", err)
		}
		for _, uid := range users {
			sent, err := db.buildDigest(ctx, uid, day.String(), start, end, baseURL)
			if err != nil {
				return queued, err
			}
			if sent {
				queued++
			}
		}
	}
	return queued, nil
}

func (db *RequestStore) buildDigest(ctx context.Context, userID, day string, start, end time.Time, baseURL string) (bool, error) {
	sent := false
	err := db.Tx(ctx, notifierActor, func(tx *store.Tx) error {
		d := notificationDigest{UserID: userID, Day: day, CreatedAt: store.Now()}
		res := tx.G.Clauses(clause.OnConflict{DoNothing: true}).Create(&d)
		if res.Error != nil {
			return fmt.Errorf("claim digest: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil // another instance built it
		}
		var u accounts.User
		if err := tx.G.Select("id", "email", "disabled_at").First(&u, "id = ?", userID).Error; err != nil {
			return store.NotFound(err)
		}
		var ns []Notification
		if err := tx.G.Where("user_id = ? AND created_at >= ? AND created_at < ?", userID, start, end).
			Order("created_at, id").Find(&ns).Error; err != nil {
			return fmt.Errorf("read the day's notifications: %w", err)
		}
		if len(ns) == 0 || u.Disabled() {
			return nil
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Your notifications of %s (%d):\n\n", day, len(ns))
		for _, n := range ns {
			fmt.Fprintf(&b, "- %s\n", n.Text)
			if baseURL != "" && n.RequestID != nil {
				fmt.Fprintf(&b, "  %s/requests/%s\n", strings.TrimRight(baseURL, "/"), *n.RequestID)
			}
		}
		b.WriteString("\nYou chose one digest a day on your account page; choose mail there to get each at once.\n")
		mailID := uuid.Must(uuid.NewV7()).String()
		if err := outbox.QueueMail(tx, outbox.OutboundMail{ID: mailID, Kind: outbox.MailOther, To: u.Email,
			Subject: fmt.Sprintf("[Sendara] Your notifications of %s (%d)", day, len(ns)), Body: b.String()}); err != nil {
			return err
		}
		if err := tx.G.Model(&notificationDigest{}).Where("user_id = ? AND day = ?", userID, day).Update("mail_id", mailID).Error; err != nil {
			return fmt.Errorf("record digest: %w", err)
		}
		tx.Audit(store.Audit{Action: "notification.digest", ObjectType: "user", ObjectID: userID, Details: map[string]any{"day": day, "count": len(ns)}})
		sent = true
		return nil
	})
	return sent, err
}

// ErrNotifierBusy means another instance holds the notifier's lease.
var ErrNotifierBusy = errors.New("another instance is running the notifier")

// NotifierLease is how long a claim on the notifier lasts.
const NotifierLease = 5 * time.Minute

// ClaimNotifier takes the notifier's lease for runner if it is free or
// already runner's; ReleaseNotifier gives it back.
func (db *RequestStore) ClaimNotifier(ctx context.Context, runner string) error {
	t := store.Now()
	res := db.Gorm.WithContext(ctx).Exec("UPDATE notifier_lock SET holder = ?, lease_until = ? WHERE id = 1 AND (lease_until < ? OR holder = ?)",
		runner, t.Add(NotifierLease), t, runner)
	if res.Error != nil {
		return fmt.Errorf("claim the notifier: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrNotifierBusy
	}
	return nil
}

// ReleaseNotifier ends runner's lease.
func (db *RequestStore) ReleaseNotifier(ctx context.Context, runner string) error {
	return db.Gorm.WithContext(ctx).Exec("UPDATE notifier_lock SET holder = '', lease_until = ? WHERE id = 1 AND holder = ?", store.Now(), runner).Error
}

// NotificationKinds lists the kinds in the order pages show them.
var NotificationKinds = []string{NotifyAssigned, NotifyMailIn, NotifyControllerAnswered, NotifyAckDue, NotifyAnswerDue, NotifyTaskOverdue}
