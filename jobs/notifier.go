package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/sendara/console/models"
	calendar "github.com/sendara/console/models/calendar"
	requests "github.com/sendara/console/models/requests"
)

// Notifier writes the periodic notifications (acknowledgements and
// answers due soon, controllers' tasks overdue) and builds the daily
// digests. Every instance may run one: a round takes the notifier's lease
// in the database, and each notification and digest is unique in its
// table, so running on several instances duplicates nothing.
type Notifier struct {
	db       *models.DB
	biz      calendar.Business
	id       string
	baseURL  string
	interval time.Duration
	log      *slog.Logger
}

// NewNotifier prepares a notifier named id (the instance) that runs every
// interval (default: 15 minutes). baseURL makes links in digests.
func NewNotifier(db *models.DB, biz calendar.Business, id, baseURL string, interval time.Duration, log *slog.Logger) *Notifier {
	if interval <= 0 {
		interval = 15 * time.Minute
	}
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{db: db, biz: biz, id: id, baseURL: baseURL, interval: interval, log: log.With("notifier", id)}
}

// Run runs a round at once and then every interval until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	t := time.NewTicker(n.interval)
	defer t.Stop()
	for {
		if _, _, err := n.RunOnce(ctx, calendar.DateOf(time.Now(), n.biz.Loc)); err != nil && ctx.Err() == nil {
			n.log.Error("notifier", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce runs one round for today (a business date): it returns the
// notifications written and the digests queued, or 0, 0, nil when another
// instance holds the lease.
func (n *Notifier) RunOnce(ctx context.Context, today calendar.Date) (notes, digests int, err error) {
	switch err := n.db.ClaimNotifier(ctx, n.id); {
	case errors.Is(err, requests.ErrNotifierBusy):
		n.log.Debug("notifier skipped: another instance is running it")
		return 0, 0, nil
	case err != nil:
		return 0, 0, err
	}
	defer func() {
		if rerr := n.db.ReleaseNotifier(context.WithoutCancel(ctx), n.id); rerr != nil {
			n.log.Warn("release the notifier", "err", rerr)
		}
	}()
	if notes, err = n.db.DueNotifications(ctx, n.biz, today); err != nil {
		return notes, 0, err
	}
	if digests, err = n.db.NotificationDigests(ctx, n.biz, today, n.baseURL); err != nil {
		return notes, digests, err
	}
	if notes+digests > 0 {
		n.log.Info("notifier round done", "notifications", notes, "digests", digests)
	}
	return notes, digests, nil
}
