package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	consent "github.com/sendara/console/models/consent"
	store "github.com/sendara/console/models/store"
)

// postWithKey posts body with an Idempotency-Key.
func (c *apiClient) postWithKey(path, key string, body any) apiAnswer {
	c.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, c.app.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	ans := apiAnswer{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &ans.Body)
	return ans
}

func TestAnIdempotencyKeyReplaysTheFirstAnswerWithoutActingAgain(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	api := app.apiKey(t, acme)
	events := func() (n int64) {
		app.db.Gorm.Model(&consent.ConsentEvent{}).Where("customer_id = ?", acme.ID).Count(&n)
		return
	}
	optOut := map[string]any{"to": "+14155550123", "evidence": "STOP by phone"}
	first := api.postWithKey("/api/v1/opt-outs", "retry-1", optOut)
	if first.Status != 201 || events() != 1 {
		t.Fatalf("first opt-out: %d %s", first.Status, first.Raw)
	}
	// The client lost the answer and retries: the same 201, nothing new.
	again := api.postWithKey("/api/v1/opt-outs", "retry-1", optOut)
	if again.Status != 201 || again.Raw != first.Raw || again.Header.Get("Idempotent-Replayed") != "true" || events() != 1 {
		t.Errorf("retry: %d %s (replayed %q), %d events; want the first answer again and one event", again.Status, again.Raw, again.Header.Get("Idempotent-Replayed"), events())
	}
	// Another request under the same key is a client bug, said clearly.
	other := api.postWithKey("/api/v1/opt-outs", "retry-1", map[string]any{"to": "+14155550199"})
	if other.Status != 422 || other.Body["field"] != "Idempotency-Key" || events() != 1 {
		t.Errorf("same key, other body: %d %s; want 422 naming Idempotency-Key and nothing recorded", other.Status, other.Raw)
	}
	// A refusal is an answer too, replayed as given.
	bad := api.postWithKey("/api/v1/opt-ins", "retry-2", map[string]any{"to": "+14155550123"})
	if badAgain := api.postWithKey("/api/v1/opt-ins", "retry-2", map[string]any{"to": "+14155550123"}); bad.Status != 422 || badAgain.Status != 422 || badAgain.Raw != bad.Raw {
		t.Errorf("refused opt-in: %d then %d %s", bad.Status, badAgain.Status, badAgain.Raw)
	}
	// Keys belong to one API key: another key's same Idempotency-Key acts.
	second := app.apiKey(t, acme)
	if a := second.postWithKey("/api/v1/contacts", "retry-1", map[string]any{"identifiers": []string{"+14155550177"}}); a.Status != 201 {
		t.Errorf("another API key reusing the key: %d %s, want its own 201", a.Status, a.Raw)
	}
	contact := map[string]any{"identifiers": []string{"jane@example.com"}, "name": "Jane"}
	c1 := api.postWithKey("/api/v1/contacts", "create-jane", contact)
	c2 := api.postWithKey("/api/v1/contacts", "create-jane", contact)
	if c1.Status != 201 || c2.Status != 201 || c1.Body["id"] != c2.Body["id"] {
		t.Errorf("contact created twice: %s then %s", c1.Raw, c2.Raw)
	}
	// Without a key nothing is kept: the repeat acts (and is told so).
	if a := api.post("/api/v1/opt-outs", optOut); a.Status != 200 || a.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("a repeat without a key: %d %s", a.Status, a.Raw)
	}
	if a := api.postWithKey("/api/v1/opt-outs", "bad\tkey", optOut); a.Status != 400 || a.Body["field"] != "Idempotency-Key" {
		t.Errorf("a key with a tab: %d %s, want 400 naming Idempotency-Key", a.Status, a.Raw)
	}
}

func TestIdempotencyKeysLastTwentyFourHours(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	api := app.apiKey(t, acme)
	ctx := context.Background()
	optOut := map[string]any{"to": "+14155550123"}
	if a := api.postWithKey("/api/v1/opt-outs", "day-old", optOut); a.Status != 201 {
		t.Fatalf("first: %d %s", a.Status, a.Raw)
	}
	api.postWithKey("/api/v1/opt-outs", "fresh", map[string]any{"to": "+14155550124"})
	app.db.Gorm.Model(&store.IdempotentAnswer{}).Where("key = ?", "day-old").Update("created_at", time.Now().UTC().Add(-25*time.Hour))
	// A day later the key is new again: the request acts (already opted out: 200).
	if a := api.postWithKey("/api/v1/opt-outs", "day-old", optOut); a.Status != 200 || a.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("after 24 hours: %d %s, want the request acted on again", a.Status, a.Raw)
	}
	app.db.Gorm.Model(&store.IdempotentAnswer{}).Where("key = ?", "day-old").Update("created_at", time.Now().UTC().Add(-25*time.Hour))
	if n, err := app.db.SweepIdempotencyKeys(ctx); err != nil || n != 1 {
		t.Errorf("sweep removed %d, %v; want the day-old answer only", n, err)
	}
	var left []store.IdempotentAnswer
	app.db.Gorm.Find(&left)
	if len(left) != 1 || left[0].Key != "fresh" {
		t.Errorf("kept after the sweep: %+v", left)
	}
}
