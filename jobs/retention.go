package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/sendara/console/models"
	registers "github.com/sendara/console/models/registers"
	store "github.com/sendara/console/models/store"
)

// Sweeper runs the retention sweep on a schedule. Every instance may run
// one: the sweep takes a lease in the database, so one instance sweeps at a
// time and the others skip that round.
type Sweeper struct {
	db       *models.DB
	id       string
	interval time.Duration
	log      *slog.Logger
}

// sweeperActor is who the sweep is in the audit log.
var sweeperActor = store.SystemProcess("retention", "retention sweeper")

// NewSweeper prepares a sweeper named id (the instance) that sweeps every
// interval (default: hourly).
func NewSweeper(db *models.DB, id string, interval time.Duration, log *slog.Logger) *Sweeper {
	if interval <= 0 {
		interval = time.Hour
	}
	if log == nil {
		log = slog.Default()
	}
	return &Sweeper{db: db, id: id, interval: interval, log: log.With("sweeper", id)}
}

// Run sweeps at once and then every interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		if _, err := s.SweepOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("retention sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepOnce runs one sweep now. It returns nil, nil when another instance
// holds the sweeper's lease.
func (s *Sweeper) SweepOnce(ctx context.Context) (*registers.RetentionRun, error) {
	run, err := s.db.SweepRetention(ctx, sweeperActor, s.id, store.Now())
	switch {
	case errors.Is(err, registers.ErrSweepBusy):
		s.log.Debug("retention sweep skipped: another instance is sweeping")
		return nil, nil
	case err != nil:
		return nil, err
	}
	s.log.Info("retention sweep done", "removed", run.Removed)
	return run, nil
}
