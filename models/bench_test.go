package models_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	consent "github.com/sendara/console/models/consent"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// Small benchmarks of the hot paths, each beside a baseline in the same
// run (go test -bench . -run '^$' ./models/). The full-scale figures of
// DESIGN §7 come from go run ./bench.

// BenchmarkCheckSuppression answers for random known identifiers of a
// seeded customer; the baseline is the database's round trip (SELECT 1).
func BenchmarkCheckSuppression(b *testing.B) {
	db := modeltest.Open(b)
	if _, err := db.Seed(b.Context(), modeltest.Staff, 1, 5000, nil); err != nil {
		b.Fatal(err)
	}
	c, err := db.CustomerBySlug(b.Context(), "seed-1")
	if err != nil {
		b.Fatal(err)
	}
	var ids []consent.ContactIdentifier
	if err := db.Gorm.Where("customer_id = ?", c.ID).Find(&ids).Error; err != nil {
		b.Fatal(err)
	}
	b.Run("baseline=select-1", func(b *testing.B) {
		for b.Loop() {
			var one int
			if err := db.Gorm.WithContext(b.Context()).Raw("SELECT 1").Scan(&one).Error; err != nil {
				b.Fatal(err)
			}
		}
	})
	for name, check := range map[string]func(context.Context, string, store.Identifier, string) (consent.Suppression, error){
		"check=index": db.CheckSuppression, "check=database": db.CheckSuppressionInDB,
	} {
		b.Run(name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				ci := ids[(i*7919)%len(ids)]
				i++
				if _, err := check(b.Context(), c.ID, store.Identifier{Kind: ci.Kind, Value: ci.Value}, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSuppressionIndexLoad loads the in-memory suppression index of
// 100k seeded contacts (a tenth opted out, a phone and an email each) and
// reports the heap it keeps per suppressed identifier.
func BenchmarkSuppressionIndexLoad(b *testing.B) {
	db := modeltest.OpenWithoutIndex(b)
	if _, err := db.Seed(b.Context(), modeltest.Staff, 1, 100_000, nil); err != nil {
		b.Fatal(err)
	}
	var perEntry float64
	for b.Loop() {
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ctx, stop := context.WithCancel(b.Context())
		b.StartTimer()
		entries, err := db.LoadSuppressionIndex(ctx)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if perEntry == 0 && after.HeapAlloc > before.HeapAlloc {
			// Only the first load is measured: an earlier index's goroutine
			// may still hold it when a later one is.
			perEntry = float64(after.HeapAlloc-before.HeapAlloc) / float64(max(1, entries))
		}
		stop()
		db.DropSuppressionIndex()
		b.StartTimer()
	}
	b.ReportMetric(perEntry, "heap-bytes/entry")
}

// BenchmarkAuditAppend writes one audit entry per transaction (db.Record)
// from one writer, the baseline, and from sixteen at once; the chain must
// verify afterwards.
func BenchmarkAuditAppend(b *testing.B) {
	db := modeltest.Open(b)
	entry := func(i int) store.Audit {
		return store.Audit{Action: "bench.write", ObjectType: "bench", ObjectID: fmt.Sprint(i), Details: map[string]any{"i": i}}
	}
	b.Run("writers=1", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if err := db.Record(b.Context(), modeltest.Staff, entry(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("writers=16", func(b *testing.B) {
		b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				i++
				if err := db.Record(b.Context(), modeltest.Staff, entry(i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	if rep, err := db.VerifyAudit(b.Context()); err != nil || !rep.Intact() {
		b.Fatalf("chain after the benchmark: %+v, %v", rep, err)
	}
}

// BenchmarkVerifyAudit walks a chain of 5,000 entries; the baseline hashes
// the same bytes with plain sha256 in memory. Both report entries/s.
func BenchmarkVerifyAudit(b *testing.B) {
	const entries = 5000
	db := modeltest.Open(b)
	batch := make([]store.Audit, 250)
	for i := 0; i < entries; i += len(batch) {
		for j := range batch {
			batch[j] = store.Audit{Action: "contact.view", ObjectType: "contact", ObjectID: fmt.Sprint(i + j),
				Details: map[string]any{"fields": []string{"name", "identifiers"}}}
		}
		if err := db.Record(b.Context(), modeltest.Staff, batch...); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("baseline=sha256", func(b *testing.B) {
		var es []store.AuditEvent
		if err := db.Gorm.Order("seq").Find(&es).Error; err != nil {
			b.Fatal(err)
		}
		inputs := make([][]byte, len(es))
		for i, e := range es {
			inputs[i] = hashedBytes(e)
			if fmt.Sprintf("%x", sha256.Sum256(inputs[i])) != e.Hash {
				b.Fatalf("entry %d: the baseline no longer hashes what the chain hashes", e.Seq)
			}
		}
		for b.Loop() {
			for _, in := range inputs {
				sha256.Sum256(in)
			}
		}
		b.ReportMetric(float64(len(inputs)*b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			rep, err := db.VerifyAudit(b.Context())
			if err != nil || !rep.Intact() || rep.Entries != entries {
				b.Fatalf("VerifyAudit = %+v, %v", rep, err)
			}
		}
		b.ReportMetric(float64(entries*b.N)/b.Elapsed().Seconds(), "entries/s")
	})
}

// hashedBytes is what the chain hashes for e: its predecessor's hash and
// the canonical JSON of models/audit.go, rebuilt here field for field.
func hashedBytes(e store.AuditEvent) []byte {
	c, _ := json.Marshal(struct {
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
	}{e.Seq, e.OccurredAt.UTC().Format("2006-01-02T15:04:05.000000Z"), e.ActorType, e.ActorID, e.ActorLabel, e.IP,
		e.Action, e.ObjectType, e.ObjectID, e.CustomerID, e.Details})
	return append([]byte(e.PrevHash), c...)
}
