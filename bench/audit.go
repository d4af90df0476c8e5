package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sendara/console/models"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// benchAudit measures audited writes (one writer, then sixteen) and the
// speed of walking the chain.
func (b *bench) benchAudit(ctx context.Context, t *target) error {
	b.logf("%s: audited writes, 1 writer, %s", t.name, b.o.auditFor)
	one, err := auditWriters(ctx, t.db, 1, b.o.auditFor)
	if err != nil {
		return err
	}
	b.logf("%s: audited writes, 16 writers, %s", t.name, b.o.auditFor)
	many, err := auditWriters(ctx, t.db, 16, b.o.auditFor)
	if err != nil {
		return err
	}
	goal, met := "≥ 1,000/s (PostgreSQL)", yes(many >= 1000)
	if t.dialect != "postgres" {
		goal, met = "— (the goal is PostgreSQL's)", "—"
	}
	b.add(row{t.label("audited writes (db.Record), 16 concurrent writers"), fmt.Sprintf("1 writer: %s/s", num(int(one))),
		fmt.Sprintf("%s/s", num(int(many))), fmt.Sprintf("%.2f", many/one), goal, met})
	rep, err := t.db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	b.add(row{t.label("audit chain after the concurrent writes"), "—",
		fmt.Sprintf("%s entries, %s", num(int(rep.Entries)), map[bool]string{true: "intact", false: "BROKEN at " + strconv.FormatInt(rep.BadSeq, 10)}[rep.Intact()]),
		"—", "intact: no forks, no gaps", yes(rep.Intact())})
	if !rep.Intact() {
		b.fail("audit chain on %s: %s", t.name, rep.Problem)
	}

	if n := b.o.verifyRows - int(rep.Entries); n > 0 {
		b.logf("%s: adding %d audit entries to verify", t.name, n)
		if err := fillAudit(ctx, t.db, n); err != nil {
			return err
		}
	}
	b.logf("%s: audit verify vs sha256 of the same bytes", t.name)
	var times []time.Duration
	var selfCPU, dbCPU time.Duration
	for range 3 {
		db0, self0 := b.backendCPU(ctx, t), procCPU(os.Getpid())
		start := time.Now()
		if rep, err = t.db.VerifyAudit(ctx); err != nil {
			return err
		}
		times = append(times, time.Since(start))
		selfCPU += procCPU(os.Getpid()) - self0
		for p, c := range b.backendCPU(ctx, t) {
			dbCPU += c - db0[p]
		}
	}
	slices.Sort(times)
	perEntry := func(d time.Duration) string {
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond)/float64(3*rep.Entries))
	}
	cpu := fmt.Sprintf("%s: VerifyAudit costs %s of CPU per entry (this process)", t.name, perEntry(selfCPU+dbCPU))
	if t.dialect == "postgres" {
		cpu = fmt.Sprintf("%s: VerifyAudit costs %s of CPU per entry (this process %s + PostgreSQL backend %s)",
			t.name, perEntry(selfCPU+dbCPU), perEntry(selfCPU), perEntry(dbCPU))
	}
	b.notes = append(b.notes, fmt.Sprintf("%s: %s entries per CPU-second, whatever else the machine does.",
		cpu, num(int(float64(3*rep.Entries)/(selfCPU+dbCPU).Seconds()))))
	verifyRate := float64(rep.Entries) / times[1].Seconds()
	hashRate, err := hashRate(ctx, t.db)
	if err != nil {
		return err
	}
	b.add(row{t.label(fmt.Sprintf("audit verify, %s entries", num(int(rep.Entries)))),
		fmt.Sprintf("sha256 of the same bytes: %s entries/s", num(int(hashRate))),
		fmt.Sprintf("%s entries/s", num(int(verifyRate))), fmt.Sprintf("%.2f", verifyRate/hashRate),
		"≥ 300,000 entries/s", yes(verifyRate >= 300_000 && rep.Intact())})
	return nil
}

// auditWriters runs n goroutines that each write audit entries through
// db.Record back to back for d, and returns the entries per second.
func auditWriters(ctx context.Context, db *models.DB, n int, d time.Duration) (float64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	start := time.Now()
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			actor := store.SystemActor("bench writer " + strconv.Itoa(w))
			for i := 0; time.Now().Before(stop) && ctx.Err() == nil; i++ {
				err := db.Record(ctx, actor, store.Audit{Action: "bench.write", ObjectType: "bench",
					ObjectID: strconv.Itoa(i), Details: map[string]any{"writer": w, "i": i}})
				if err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, fmt.Errorf("audited write with %d writers: %w", n, firstErr)
	}
	return float64(done.Load()) / time.Since(start).Seconds(), nil
}

// fillAudit appends n entries, many per transaction, so verification has
// enough to walk.
func fillAudit(ctx context.Context, db *models.DB, n int) error {
	const per = 250
	actor := store.SystemActor("bench fill")
	batch := make([]store.Audit, 0, per)
	for i := 0; i < n; {
		batch = batch[:0]
		for ; len(batch) < per && i < n; i++ {
			batch = append(batch, store.Audit{Action: "contact.view", ObjectType: "contact",
				ObjectID: fmt.Sprintf("0190c5e2-0000-7000-8000-%012d", i), CustomerID: "0190c5e2-0000-7000-8000-000000000001",
				Details: map[string]any{"fields": []string{"name", "identifiers"}, "i": i}})
		}
		if err := db.Record(ctx, actor, batch...); err != nil {
			return fmt.Errorf("fill audit log: %w", err)
		}
	}
	return nil
}

// canonical mirrors the hashed form of an audit event (models/audit.go),
// so the baseline hashes exactly the bytes the chain hashes; hashRate
// checks that every hash it computes matches the stored one.
type canonical struct {
	Seq        int64  `json:"seq"`
	OccurredAt string `json:"occurred_at"`
	ActorType  string `json:"actor_type"`
	ActorID    string `json:"actor_id"`
	ActorLabel string `json:"actor_label"`
	IP         string `json:"ip"`
	Action     string `json:"action"`
	ObjectType string `json:"object_type"`
	ObjectID   string `json:"object_id"`
	CustomerID string `json:"customer_id"`
	Details    string `json:"details"`
}

// hashRate is plain sha256 over every entry's hashed bytes, in memory:
// entries per second, the median of three passes (as for VerifyAudit).
func hashRate(ctx context.Context, db *models.DB) (float64, error) {
	var inputs [][]byte
	var want []string
	var batch []store.AuditEvent
	err := db.Gorm.WithContext(ctx).Order("seq").FindInBatches(&batch, 5000, func(*gorm.DB, int) error {
		for _, e := range batch {
			c, _ := json.Marshal(canonical{Seq: e.Seq, OccurredAt: e.OccurredAt.UTC().Format("2006-01-02T15:04:05.000000Z"),
				ActorType: e.ActorType, ActorID: e.ActorID, ActorLabel: e.ActorLabel, IP: e.IP, Action: e.Action,
				ObjectType: e.ObjectType, ObjectID: e.ObjectID, CustomerID: e.CustomerID, Details: e.Details})
			inputs = append(inputs, append([]byte(e.PrevHash), c...))
			want = append(want, e.Hash)
		}
		return nil
	}).Error
	if err != nil {
		return 0, fmt.Errorf("read audit events: %w", err)
	}
	sums := make([][32]byte, len(inputs))
	var times []time.Duration
	for range 3 {
		start := time.Now()
		for i, in := range inputs {
			sums[i] = sha256.Sum256(in)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	for i, s := range sums {
		if hex.EncodeToString(s[:]) != want[i] {
			return 0, fmt.Errorf("the baseline's bytes of entry %d do not hash to its stored hash: bench/audit.go no longer mirrors models/audit.go", i+1)
		}
	}
	return float64(len(inputs)) / times[1].Seconds(), nil
}
