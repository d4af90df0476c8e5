package models_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

// A plain status change cannot put a request "with the controllers" (only
// routing tells them), and the timeline says each status change in words.
func TestWalksOnlyRoutingPutsARequestWithTheControllers(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	r := newRequest(t, db, requests.RequestInput{Type: "access", Regime: "gdpr", Requester: requests.Requester{Email: "a@example.com"}})
	if _, err := db.VerifyManually(ctx, modeltest.Staff, r.ID, "phone_call", "called back on the number on file"); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{requests.StatusWithController, requests.StatusCompleted} {
		if _, err := db.SetStatus(ctx, modeltest.Staff, r.ID, to, ""); !isConflict(err) {
			t.Errorf("verified → %s by a status change: %v, want a conflict", to, err)
		}
		if next := requests.NextStatuses(requests.StatusVerified); strings.Contains(strings.Join(next, " "), to) {
			t.Errorf("the page would offer %s on a verified request: %v", to, next)
		}
	}
	if _, err := db.SetStatus(ctx, modeltest.Staff, r.ID, requests.StatusInProgress, ""); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Request(ctx, modeltest.Staff, r.ID)
	events, err := db.Timeline(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range events {
		if e.Text == "Status verified → in progress." {
			found = true
		}
	}
	if !found {
		t.Errorf("no timeline line %q in %+v", "Status verified → in progress.", events)
	}
}
