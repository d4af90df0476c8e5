// Package jobs runs the console's background work: CSV imports and the
// retention sweep (retention.go). A Runner
// claims queued import jobs from the database, applies them batch by batch
// and sends heartbeats while it holds one; a job whose runner stopped
// sending them for a minute is claimed again and resumes from its last
// committed batch. Several runners (one per server instance) may share a
// database. The command line runs the same job code synchronously.
//
// jobs imports models only; handlers never call it (they queue jobs in the
// database), and cmd/console starts a Runner beside the web server.
package jobs

import (
	errs "github.com/sendara/console/models/errs"
	imports "github.com/sendara/console/models/imports"

	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/sendara/console/models"
	store "github.com/sendara/console/models/store"
)

// Options tune a Runner; zero values take the defaults.
type Options struct {
	// Region reads phone numbers written without a country code.
	Region string
	// Location reads dates written without a time zone.
	Location *time.Location
	Log      *slog.Logger
	// ID names this runner in claimed jobs (default: host, process and a
	// random suffix).
	ID string
	// Poll is how often an idle runner looks for queued jobs (default 1s).
	Poll time.Duration
	// Heartbeat is how often a busy runner says it is alive (default 15s).
	Heartbeat time.Duration
	// Stale is how old a heartbeat may be before the job is presumed
	// abandoned and claimed again (default 1 minute).
	Stale time.Duration
	// BatchSize is the number of data rows applied per transaction
	// (default 2000).
	BatchSize int
	// OnBatch, if set, is called after each committed batch with the job's
	// counters (the command line prints progress with it).
	OnBatch func(imports.ImportJob)
}

// Runner claims and runs import jobs.
type Runner struct {
	db  *models.DB
	opt Options
	log *slog.Logger
}

// actor is who the runner is when it claims and sweeps: the console
// itself. Batches run as the person who uploaded the file.
var actor = store.SystemActor("import runner")

// NewRunner prepares a runner; Run starts it.
func NewRunner(db *models.DB, opt Options) *Runner {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Location == nil {
		opt.Location = db.Business().Loc
	}
	if opt.Region == "" {
		opt.Region = db.Region()
	}
	if opt.ID == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		opt.ID = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = 15 * time.Second
	}
	if opt.Stale <= 0 {
		opt.Stale = time.Minute
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 2000
	}
	return &Runner{db: db, opt: opt, log: opt.Log.With("runner", opt.ID)}
}

// ID is the name the runner claims jobs under.
func (r *Runner) ID() string { return r.opt.ID }

// Run claims and runs jobs until ctx ends. A job in hand when ctx ends is
// put back in the queue, so the next runner resumes it at once.
func (r *Runner) Run(ctx context.Context) {
	r.log.Info("import runner started")
	t := time.NewTicker(r.opt.Poll)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			found, err := r.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				r.log.Error("import runner", "err", err)
			}
			if !found || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			r.log.Info("import runner stopped")
			return
		case <-t.C:
		}
	}
}

// RunOnce sweeps abandoned uploads, then claims one job and runs it to the
// end. It reports whether there was a job.
func (r *Runner) RunOnce(ctx context.Context) (bool, error) {
	stale := store.Now().Add(-r.opt.Stale)
	// An upload touches its job after each stored chunk: a slow client
	// may take long between two, so uploads get ten times longer.
	if n, err := r.db.SweepImports(ctx, actor, store.Now().Add(-10*r.opt.Stale)); err != nil {
		return false, err
	} else if n > 0 {
		r.log.Info("abandoned uploads removed", "count", n)
	}
	job, err := r.db.ClaimImport(ctx, actor, r.opt.ID, stale)
	if err != nil || job == nil {
		return false, err
	}
	return true, r.Process(ctx, job)
}

// Process runs a job this runner holds to the end: it applies the rest of
// the file in batches, then marks the job done, or failed with a reason.
// If ctx ends first the job goes back to the queue; if another runner
// took the job over, Process stops without writing.
func (r *Runner) Process(ctx context.Context, job *imports.ImportJob) error {
	log := r.log.With("import", job.ID, "customer", job.CustomerID)
	if job.ProcessedRows > 0 {
		log.Info("import resumed", "line", job.ResumeLine, "processed_rows", job.ProcessedRows)
	} else {
		log.Info("import started", "rows", job.TotalRows)
	}
	work, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go r.heartbeat(work, job, stop)

	err := r.apply(work, job)
	if err == nil {
		err = r.db.FinishImport(work, job, r.opt.ID)
	}
	if cause := context.Cause(work); errors.Is(cause, imports.ErrImportClaimLost) {
		err = cause
	}
	switch {
	case err == nil:
		log.Info("import done", "applied", job.Applied, "unchanged", job.Unchanged, "bad_rows", job.BadRows,
			"contacts_created", job.ContactsCreated)
		return nil
	case errors.Is(err, imports.ErrImportClaimLost):
		log.Warn("import taken over by another runner; stopping")
		return nil
	case ctx.Err() != nil:
		release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := r.db.ReleaseImport(release, job, r.opt.ID); rerr != nil {
			log.Error("release import", "err", rerr)
		}
		log.Info("import paused: back in the queue", "processed_rows", job.ProcessedRows)
		return ctx.Err()
	}
	log.Error("import failed", "err", err)
	fail, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := r.db.FailImport(fail, job, r.opt.ID, failMessage(err)); ferr != nil && !errors.Is(ferr, imports.ErrImportClaimLost) {
		return errors.Join(err, ferr)
	}
	return err
}

// failMessage is what the job page shows: the reason for people when the
// error is about the data, a pointer to the logs otherwise.
func failMessage(err error) string {
	if v, ok := errs.AsValidation(err); ok {
		return v.Error()
	}
	if c, ok := errs.AsConflict(err); ok {
		return c.Message
	}
	return "the import stopped on a database error (" + err.Error() + "); retry it: it resumes where it stopped"
}

// apply reads the file from the job's position and applies it batch by
// batch. A batch that fails is retried a few times (a concurrent write may
// have taken an identifier the batch was creating); its transaction left
// nothing behind.
func (r *Runner) apply(ctx context.Context, job *imports.ImportJob) error {
	opts := imports.ImportOptions{Region: r.opt.Region, Location: r.opt.Location}
	p := imports.NewImportParser(r.db.ImportReader(ctx, job.ID, job.ResumeOffset), job.Kind, job.Mapping, opts, job.Cursor())
	// No ANALYZE as the tables grow: the batch's statements probe indexes
	// whatever the statistics say (LATERAL … LIMIT 1, generic plans), and a
	// 1M-row import with no statistics at all took as long as one that
	// re-analyzed as the tables doubled (docs/PERFORMANCE.md, tenth session).
	for {
		b := imports.ImportBatch{From: p.Cursor()}
		var err error
		for b.Consumed < int64(r.opt.BatchSize) {
			var row imports.ImportRow
			if row, err = p.Next(); err != nil {
				break
			}
			b.Consumed++
			if row.Applies(job.Kind) {
				b.Rows = append(b.Rows, row)
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		b.To = p.Cursor()
		if b.Consumed > 0 {
			if aerr := r.applyBatch(ctx, job, b); aerr != nil {
				return aerr
			}
			if r.opt.OnBatch != nil {
				r.opt.OnBatch(*job)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
}

func (r *Runner) applyBatch(ctx context.Context, job *imports.ImportJob, b imports.ImportBatch) error {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		err = r.db.ApplyImportBatch(ctx, job, r.opt.ID, b)
		if err == nil || errors.Is(err, imports.ErrImportClaimLost) || ctx.Err() != nil {
			return err
		}
		if _, ok := errs.AsConflict(err); ok && attempt == 1 {
			r.log.Warn("import batch conflicted; retrying", "import", job.ID, "line", b.From.Line+1, "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
	return fmt.Errorf("apply lines %d to %d: %w", b.From.Line+1, b.To.Line, err)
}

// heartbeat keeps the claim fresh while the job runs, and stops the work
// when another runner has taken the job over.
func (r *Runner) heartbeat(ctx context.Context, job *imports.ImportJob, stop context.CancelCauseFunc) {
	t := time.NewTicker(r.opt.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := r.db.ImportHeartbeat(ctx, job, r.opt.ID)
			if errors.Is(err, imports.ErrImportClaimLost) {
				stop(err)
				return
			}
			if err != nil && ctx.Err() == nil {
				r.log.Warn("import heartbeat failed", "import", job.ID, "err", err)
			}
		}
	}
}
