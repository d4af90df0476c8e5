package handlers_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/sendara/console/handlers"
)

func TestAPIWritesBeyondTheBoundAre503AtOnceWhileTheOthersFinish(t *testing.T) {
	t.Parallel()
	const bound, sent = 2, 5
	app := newTestAppWith(t, handlers.Config{APIMaxWrites: bound})
	api := app.apiKey(t, app.customer("acme"))
	// Warm the key's cache so that requests only wait where writes wait.
	if a := api.get(check("+14155550100")); a.Status != 200 {
		t.Fatalf("check: %d %s", a.Status, a.Raw)
	}
	// A slow database: every audited write waits for this lock.
	release := holdWriteLock(t, app.db, "audit_head")
	released := false
	defer func() {
		if !released {
			release()
		}
	}()

	answers := make(chan apiAnswer, sent)
	for i := range sent {
		go func() {
			answers <- api.post("/api/v1/opt-outs", map[string]any{"to": fmt.Sprintf("+1415555%04d", i)})
		}()
	}
	// While the database is stuck, everything beyond the bound is answered.
	timeout := time.After(time.Minute)
	for range sent - bound {
		select {
		case a := <-answers:
			if a.Status != http.StatusServiceUnavailable || a.Header.Get("Retry-After") == "" || a.Body["error"] == nil {
				t.Errorf("a write beyond the bound while the database is stuck: %d, Retry-After %q, %s; want 503 with Retry-After and an error",
					a.Status, a.Header.Get("Retry-After"), a.Raw)
			}
		case <-timeout:
			t.Fatalf("writes beyond the bound of %d were not answered while the database was stuck", bound)
		}
	}
	if a := api.get(check("+14155550100")); a.Status != 200 {
		t.Errorf("a suppression check while writes are at the bound: %d, want 200 (checks are reads)", a.Status)
	}
	release()
	released = true
	for range bound {
		if a := <-answers; a.Status != http.StatusCreated {
			t.Errorf("a write within the bound, once the database moved: %d %s, want 201", a.Status, a.Raw)
		}
	}
	if a := api.post("/api/v1/opt-outs", map[string]any{"to": "+14155559999"}); a.Status != http.StatusCreated {
		t.Errorf("a write after the others finished: %d %s, want 201 (slots are given back)", a.Status, a.Raw)
	}
}
