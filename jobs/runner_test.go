package jobs_test

import (
	customers "github.com/sendara/console/models/customers"
	imports "github.com/sendara/console/models/imports"

	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendara/console/jobs"
	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

var opts = imports.ImportOptions{Region: "US", Location: time.UTC}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newRunner(db *models.DB, id string, batch int) *jobs.Runner {
	return jobs.NewRunner(db, jobs.Options{Region: "US", Location: time.UTC, Log: quiet(), ID: id, BatchSize: batch, Poll: 10 * time.Millisecond})
}

type fixture struct {
	t    *testing.T
	db   *models.DB
	acme *customers.Customer
	ctx  context.Context
}

func newFixture(t *testing.T) *fixture {
	db := modeltest.Open(t)
	acme, err := db.CreateCustomer(context.Background(), modeltest.Staff, customers.CustomerInput{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, db: db, acme: acme, ctx: context.Background()}
}

// optOutFile has a byte-order mark, a header, n good rows (each with an email, every third
// with a phone too) and one bad row at the end.
func optOutFile(n int) string {
	var b strings.Builder
	b.WriteString("\ufeffEmail,Phone,Name\n") // as Excel writes "CSV UTF-8"
	for i := range n {
		phone := ""
		if i%3 == 0 {
			phone = fmt.Sprintf("+1 415 555 %04d", i%10000)
		}
		fmt.Fprintf(&b, "person%d@example.com,%s,Person %d\n", i, phone, i)
	}
	b.WriteString("not-an-address,,Broken\n")
	return b.String()
}

// queued uploads file and confirms it, as the preview page's button does.
func (f *fixture) queued(name, file string) *imports.ImportJob {
	f.t.Helper()
	job, err := f.db.CreateImport(f.ctx, modeltest.Staff, imports.ImportUpload{CustomerID: f.acme.ID, FileName: name,
		File: strings.NewReader(file)}, opts)
	if err != nil {
		f.t.Fatalf("upload: %v", err)
	}
	if job, err = f.db.StartImport(f.ctx, modeltest.Staff, job.ID, ""); err != nil {
		f.t.Fatalf("start: %v", err)
	}
	return job
}

func (f *fixture) job(id string) *imports.ImportJob {
	f.t.Helper()
	j, err := f.db.ImportJob(f.ctx, modeltest.Staff, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return j
}

func (f *fixture) count(query string, args ...any) int64 {
	f.t.Helper()
	var n int64
	if err := f.db.Gorm.Raw(query, args...).Scan(&n).Error; err != nil {
		f.t.Fatal(err)
	}
	return n
}

func runOnce(t *testing.T, r *jobs.Runner) {
	t.Helper()
	found, err := r.RunOnce(context.Background())
	if err != nil || !found {
		t.Fatalf("RunOnce: found %v, %v", found, err)
	}
}

func TestImportingTheSameFileTwiceChangesNothingTheSecondTime(t *testing.T) {
	f := newFixture(t)
	file := optOutFile(25)
	r := newRunner(f.db, "runner", 10)

	first := f.queued("list.csv", file)
	runOnce(t, r)
	first = f.job(first.ID)
	if first.Status != imports.ImportDone || first.Applied != 25 || first.Unchanged != 0 || first.BadRows != 1 ||
		first.ContactsCreated != 25 || first.ProcessedRows != 26 {
		t.Fatalf("first import: %+v", first)
	}
	events := f.count("SELECT COUNT(*) FROM consent_events")

	second := f.queued("list-again.csv", file)
	runOnce(t, r)
	second = f.job(second.ID)
	if second.Status != imports.ImportDone || second.Applied != 0 || second.Unchanged != 25 || second.ContactsCreated != 0 {
		t.Errorf("second import: applied %d unchanged %d created %d, want 0, 25, 0", second.Applied, second.Unchanged, second.ContactsCreated)
	}
	if n := f.count("SELECT COUNT(*) FROM consent_events"); n != events {
		t.Errorf("the second import appended %d ledger events", n-events)
	}
	if n := f.count("SELECT COUNT(*) FROM import_chunks"); n != 0 {
		t.Errorf("%d chunks kept after both imports finished", n)
	}
	actions := map[string]int64{}
	for _, a := range []string{"import.create", "import.start", "import.batch", "import.complete"} {
		actions[a] = f.count("SELECT COUNT(*) FROM audit_events WHERE action = ?", a)
	}
	if actions["import.create"] != 2 || actions["import.start"] != 2 || actions["import.batch"] != 6 || actions["import.complete"] != 2 {
		t.Errorf("audit entries %v, want 2 creates, 2 starts, 6 batches (3 per file of 26 rows), 2 completes", actions)
	}
	if rep, err := f.db.VerifyAudit(f.ctx); err != nil || !rep.Intact() {
		t.Errorf("audit chain: %+v %v", rep, err)
	}
}

// A runner dies after committing one batch: its job keeps status running
// with a heartbeat that ages. Another runner claims it after a minute and
// resumes after the committed batch.
func TestAJobWhoseRunnerDiedIsResumedAfterItsLastCommittedBatch(t *testing.T) {
	f := newFixture(t)
	job := f.queued("list.csv", optOutFile(30))

	// The first runner claims the job and commits one batch of 12 rows.
	claimed, err := f.db.ClaimImport(f.ctx, store.SystemActor("test"), "dead-runner", store.Now().Add(-time.Minute))
	if err != nil || claimed == nil || claimed.ID != job.ID {
		t.Fatalf("claim: %+v %v", claimed, err)
	}
	p := imports.NewImportParser(f.db.ImportReader(f.ctx, job.ID, 0), claimed.Kind, claimed.Mapping, opts, imports.ImportCursor{})
	b := imports.ImportBatch{From: p.Cursor()}
	for range 12 {
		row, err := p.Next()
		if err != nil {
			t.Fatal(err)
		}
		b.Rows, b.Consumed = append(b.Rows, row), b.Consumed+1
	}
	b.To = p.Cursor()
	if err := f.db.ApplyImportBatch(f.ctx, claimed, "dead-runner", b); err != nil {
		t.Fatal(err)
	}

	// While its heartbeat is fresh, nobody else takes the job.
	other := newRunner(f.db, "rescuer", 7)
	if found, err := other.RunOnce(f.ctx); err != nil || found {
		t.Fatalf("a job with a fresh heartbeat was claimed: %v %v", found, err)
	}
	// The first runner is gone: its heartbeat ages past a minute.
	if err := f.db.Gorm.Exec("UPDATE import_jobs SET heartbeat_at = ? WHERE id = ?", store.Now().Add(-2*time.Minute), job.ID).Error; err != nil {
		t.Fatal(err)
	}
	runOnce(t, other)

	done := f.job(job.ID)
	if done.Status != imports.ImportDone || done.ProcessedRows != 31 || done.Applied != 30 || done.Unchanged != 0 || done.ContactsCreated != 30 {
		t.Errorf("after resuming: %+v", done)
	}
	if n := f.count("SELECT COUNT(*) FROM consent_events"); n != 30 {
		t.Errorf("%d ledger events, want 30: one per person, none twice", n)
	}
	if n := f.count("SELECT COUNT(DISTINCT idempotency_key) FROM consent_events"); n != 30 {
		t.Errorf("%d distinct idempotency keys, want 30", n)
	}
	// The keys name the file's lines 2 to 31, as a run without a crash would.
	for _, line := range []int{2, 13, 14, 31} {
		key := fmt.Sprintf("%s:%d", done.FileSHA256, line)
		if n := f.count("SELECT COUNT(*) FROM consent_events WHERE idempotency_key = ?", key); n != 1 {
			t.Errorf("line %d: %d events with key %s", line, n, key)
		}
	}
	// The dead runner, were it to wake, can no longer write.
	if err := f.db.ApplyImportBatch(f.ctx, claimed, "dead-runner", imports.ImportBatch{From: b.To, To: b.To}); !errors.Is(err, imports.ErrImportClaimLost) {
		t.Errorf("a late batch from the dead runner: %v, want ErrImportClaimLost", err)
	}
}

func TestARunnerThatIsStoppedPutsItsJobBackInTheQueue(t *testing.T) {
	f := newFixture(t)
	job := f.queued("list.csv", optOutFile(40))
	ctx, cancel := context.WithCancel(f.ctx)
	r := jobs.NewRunner(f.db, jobs.Options{Region: "US", Log: quiet(), ID: "stopping", BatchSize: 10,
		OnBatch: func(imports.ImportJob) { cancel() }})
	if found, err := r.RunOnce(ctx); !found || !errors.Is(err, context.Canceled) {
		t.Fatalf("RunOnce = %v, %v; want the job found and the run cancelled", found, err)
	}
	paused := f.job(job.ID)
	if paused.Status != imports.ImportQueued || paused.ProcessedRows != 10 || paused.ClaimedBy != "" {
		t.Fatalf("after stopping: status %s processed %d claimed by %q", paused.Status, paused.ProcessedRows, paused.ClaimedBy)
	}
	runOnce(t, newRunner(f.db, "next", 10))
	if done := f.job(job.ID); done.Status != imports.ImportDone || done.Applied != 40 || done.ProcessedRows != 41 {
		t.Errorf("after the next runner: %+v", done)
	}
}

func TestConcurrentRunnersRunEachJobOnce(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for i := range 4 {
		// Disjoint people per file, so each file's totals are known.
		var b strings.Builder
		b.WriteString("Email\n")
		for j := range 15 {
			fmt.Fprintf(&b, "f%d-p%d@example.com\n", i, j)
		}
		ids = append(ids, f.queued(fmt.Sprintf("part-%d.csv", i), b.String()).ID)
	}
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			r := newRunner(f.db, fmt.Sprintf("runner-%d", i), 4)
			for ctx.Err() == nil {
				if found, err := r.RunOnce(ctx); err != nil {
					t.Errorf("runner %d: %v", i, err)
					return
				} else if !found {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if j := f.job(id); j.Status != imports.ImportDone || j.Applied != 15 || j.ProcessedRows != 15 {
			t.Errorf("job %s: %s, applied %d, processed %d", j.FileName, j.Status, j.Applied, j.ProcessedRows)
		}
	}
	if n := f.count("SELECT COUNT(*) FROM consent_events"); n != 60 {
		t.Errorf("%d ledger events, want 60", n)
	}
	if n := f.count("SELECT COUNT(*) FROM audit_events WHERE action = 'import.batch'"); n != 16 {
		t.Errorf("%d import.batch entries, want 16 (4 per job): a batch was applied twice or not at all", n)
	}
}

func TestAJobThatCannotContinueFailsWithAReasonAndCanBeRetried(t *testing.T) {
	f := newFixture(t)
	job := f.queued("list.csv", optOutFile(5))
	if err := f.db.CancelCustomer(f.ctx, modeltest.Staff, f.acme.ID); err != nil {
		t.Fatal(err)
	}
	r := newRunner(f.db, "runner", 10)
	if found, err := r.RunOnce(f.ctx); !found || err == nil {
		t.Fatalf("RunOnce = %v, %v; want the job found and failed", found, err)
	}
	failed := f.job(job.ID)
	if failed.Status != imports.ImportFailed || !strings.Contains(failed.Error, "cancelled") || failed.ProcessedRows != 0 {
		t.Errorf("failed job: status %s error %q processed %d", failed.Status, failed.Error, failed.ProcessedRows)
	}
	if n := f.count("SELECT COUNT(*) FROM audit_events WHERE action = 'import.fail'"); n != 1 {
		t.Errorf("%d import.fail entries, want 1", n)
	}
	if n := f.count("SELECT COUNT(*) FROM import_chunks WHERE job_id = ?", job.ID); n == 0 {
		t.Error("the failed job's file was deleted: it could not be retried")
	}
	if err := f.db.RetryImport(f.ctx, modeltest.Staff, job.ID); err != nil {
		t.Fatal(err)
	}
	if j := f.job(job.ID); j.Status != imports.ImportQueued || j.Error != "" {
		t.Errorf("after retry: status %s error %q", j.Status, j.Error)
	}
}

func TestAnAbandonedUploadIsSweptAfterTenMinutes(t *testing.T) {
	f := newFixture(t)
	job, err := f.db.CreateImport(f.ctx, modeltest.Staff, imports.ImportUpload{CustomerID: f.acme.ID, File: strings.NewReader("Email\na@example.com\n")}, opts)
	if err != nil {
		t.Fatal(err)
	}
	// A server died while storing this upload.
	if err := f.db.Gorm.Exec("UPDATE import_jobs SET status = ?, heartbeat_at = ? WHERE id = ?", imports.ImportUploading, store.Now().Add(-5*time.Minute), job.ID).Error; err != nil {
		t.Fatal(err)
	}
	if found, err := newRunner(f.db, "runner", 10).RunOnce(f.ctx); found || err != nil {
		t.Fatalf("RunOnce = %v, %v", found, err)
	}
	if n := f.count("SELECT COUNT(*) FROM import_jobs"); n != 1 {
		t.Fatal("an upload quiet for five minutes was swept: a slow client may still be sending it")
	}
	if err := f.db.Gorm.Exec("UPDATE import_jobs SET heartbeat_at = ? WHERE id = ?", store.Now().Add(-11*time.Minute), job.ID).Error; err != nil {
		t.Fatal(err)
	}
	if found, err := newRunner(f.db, "runner", 10).RunOnce(f.ctx); found || err != nil {
		t.Fatalf("RunOnce = %v, %v", found, err)
	}
	if n := f.count("SELECT COUNT(*) FROM import_jobs") + f.count("SELECT COUNT(*) FROM import_chunks"); n != 0 {
		t.Errorf("%d rows of the abandoned upload remain", n)
	}
}
