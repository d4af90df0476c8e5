package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	requests "github.com/sendara/console/models/requests"

	"context"
	"encoding/json"
	"testing"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// lastAudit is the newest event whose action starts with prefix, and its
// details decoded.
func lastAudit(t *testing.T, db *models.DB, actor store.Actor, prefix string) (store.AuditEvent, map[string]any) {
	t.Helper()
	es, err := db.ListAudit(context.Background(), actor, store.AuditFilter{Action: prefix, Limit: 1})
	if err != nil || len(es) == 0 {
		t.Fatalf("no %s event visible to %s: %v", prefix, actor.Label, err)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(es[0].Details), &d); err != nil {
		t.Fatal(err)
	}
	return es[0], d
}

// TestTheWhyOfARequestStepIsInTheAuditChain: reasons that justify a step
// are in the signed chain, not only on the request's timeline.
func TestTheWhyOfARequestStepIsInTheAuditChain(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	r := newRequest(t, db, requests.RequestInput{Type: calendar.TypeErasure, Regime: "gdpr", Identifiers: []string{"jane@example.com"},
		Requester: requests.Requester{Email: "jane@example.com"}})
	steps := []struct {
		action, key, want string
		do                func() error
	}{
		{"request.verify_skip", "reason", "known to us from the signed contract", func() error {
			_, err := db.SkipVerification(ctx, modeltest.Staff, r.ID, "known to us from the signed contract")
			return err
		}},
		{"request.extend", "reason", "the request covers ten years of records", func() error {
			_, err := db.Extend(ctx, modeltest.Staff, la(t), r.ID, "the request covers ten years of records")
			return err
		}},
		{"request.status", "reason", "manifestly unfounded: the fifth identical request this month", func() error {
			_, err := db.SetStatus(ctx, modeltest.Staff, r.ID, requests.StatusDenied, "manifestly unfounded: the fifth identical request this month")
			return err
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.action, err)
		}
		if _, d := lastAudit(t, db, modeltest.Staff, s.action); d[s.key] != s.want {
			t.Errorf("%s details %v, want %s %q", s.action, d, s.key, s.want)
		}
	}
}

// TestControllersSeeTheirRequestsInTheirOwnLog: a routed request, the
// controller's answer with its reason and a bundle for it and its download
// all carry the controller, so its admins read them in their own log.
func TestControllersSeeTheirRequestsInTheirOwnLog(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, bright := mustCustomer(t, db, "acme"), mustCustomer(t, db, "bright")
	subject(t, db, acme)
	subject(t, db, bright)
	r := instructed(t, db, calendar.TypePortability, []string{janeEmail}, acme)
	acmeAdmin := customerActor(t, db, acme)
	brightAdmin := customerActor(t, db, bright)

	for _, admin := range []store.Actor{acmeAdmin, brightAdmin} {
		if e, d := lastAudit(t, db, admin, "routed_task.create"); e.CustomerID != admin.CustomerID || d["reference"] != r.Reference {
			t.Errorf("routing as %s sees it: %+v", admin.Label, e)
		}
	}
	if e, d := lastAudit(t, db, acmeAdmin, "request.controller_answer"); d["decision"] != requests.TaskDenied ||
		d["reason"] != "we must keep this person's data for an open contract" || e.CustomerID != acme.ID {
		t.Errorf("acme's denial in its own log: %+v %v", e, d)
	}

	b, err := db.ExportBundleFor(ctx, modeltest.Staff, r.ID, bright.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := lastAudit(t, db, brightAdmin, "request.export"); e.CustomerID != bright.ID {
		t.Errorf("bright's bundle is logged for tenant %q", e.CustomerID)
	}
	if _, err := db.DownloadExport(ctx, store.Public("", "link holder", ""), b.Token); err != nil {
		t.Fatal(err)
	}
	if e, _ := lastAudit(t, db, brightAdmin, "request.export_download"); e.ActorLabel != "link holder" {
		t.Errorf("the download is not in bright's log: %+v", e)
	}
}
