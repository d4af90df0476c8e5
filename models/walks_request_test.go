package models_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
)

// A plain status change cannot put a request "with the controllers" (only
// routing tells them), and the timeline says each status change in words.
func TestWalksOnlyRoutingPutsARequestWithTheControllers(t *testing.T) {
	db := modeltest.Open(t)
	ctx := context.Background()
	r := newRequest(t, db, models.RequestInput{Type: "access", Regime: "gdpr", Requester: models.Requester{Email: "a@example.com"}})
	if _, err := db.VerifyManually(ctx, modeltest.Staff, r.ID, "phone_call", "called back on the number on file"); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{models.StatusWithController, models.StatusCompleted} {
		if _, err := db.SetStatus(ctx, modeltest.Staff, r.ID, to, ""); !isConflict(err) {
			t.Errorf("verified → %s by a status change: %v, want a conflict", to, err)
		}
		if next := models.NextStatuses(models.StatusVerified); strings.Contains(strings.Join(next, " "), to) {
			t.Errorf("the page would offer %s on a verified request: %v", to, next)
		}
	}
	if _, err := db.SetStatus(ctx, modeltest.Staff, r.ID, models.StatusInProgress, ""); err != nil {
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
