package webhooks_test

import (
	consent "github.com/sendara/console/models/consent"
	customers "github.com/sendara/console/models/customers"

	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	hooks "github.com/sendara/console/models/hooks"
	"github.com/sendara/console/models/modeltest"
	"github.com/sendara/console/webhooks"
)

// BenchmarkOptOutWrite measures opt-out writes (RecordConsent, one API
// opt-out each) with no webhook endpoint against three endpoints that want
// every event: first with the events only queued (the fan-out's cost in
// the write's transaction), then while a sender delivers them to a
// loopback receiver beside the writes (its claims and outcomes share the
// database with them). Each line reports the p50 and p99 latency of
// the writes; compare the two lines of one run (docs/PERFORMANCE.md):
//
//	go test -run '^$' -bench OptOutWrite -benchtime 2000x ./webhooks/
func BenchmarkOptOutWrite(b *testing.B) {
	for _, run := range []struct {
		endpoints int
		sending   bool
	}{{0, false}, {3, false}, {3, true}} {
		endpoints := run.endpoints
		b.Run(fmt.Sprintf("endpoints=%d/sending=%v", endpoints, run.sending), func(b *testing.B) {
			db := modeltest.Open(b)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			acme, err := db.CreateCustomer(ctx, modeltest.Staff, customers.CustomerInput{Slug: "acme", Name: "Acme"})
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
			defer srv.Close()
			for i := range endpoints {
				if _, err := db.CreateWebhookEndpoint(ctx, modeltest.Staff, acme.ID, hooks.WebhookInput{URL: fmt.Sprintf("%s/%d", srv.URL, i),
					Enabled: true, EventTypes: hooks.WebhookEventTypes, AllowLoopbackHTTP: true}); err != nil {
					b.Fatal(err)
				}
			}
			if run.sending {
				go webhooks.New(db, webhooks.Options{Log: quiet(), AllowLoopback: true, Poll: 10 * time.Millisecond}).Run(ctx)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: fmt.Sprintf("person%d@example.com", i),
					Kind: consent.OptOut, Source: "api"}, "US"); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
