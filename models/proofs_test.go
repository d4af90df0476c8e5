package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	requests "github.com/sendara/console/models/requests"

	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// proofsPDF is a small file whose content sniffs as a PDF.
var proofsPDF = []byte("%PDF-1.4\n% signed permission from Jane Doe for Agent Smith\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")

// proofsAgentRequest is an access request by an authorized agent for
// Jane, verified, about a customer that holds her.
func proofsAgentRequest(t *testing.T, db *models.DB, relationship string) (*requests.PrivacyRequest, *customers.Customer) {
	t.Helper()
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	if _, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{janePhone}}, "US"); err != nil {
		t.Fatal(err)
	}
	r := newRequest(t, db, requests.RequestInput{Type: calendar.TypeAccess, Regime: "gdpr", Identifiers: []string{janePhone},
		Requester: requests.Requester{Email: "agent@example.com", Relationship: relationship, Proof: "signed permission, sent separately"}})
	if _, err := db.VerifyManually(ctx, modeltest.Staff, r.ID, "phone_call", "called Jane back; she confirmed the agent"); err != nil {
		t.Fatal(err)
	}
	if err := db.VerifyIdentifier(ctx, modeltest.Staff, la(t), r.ID, janePhone, "phone_call", "Jane answered", "https://console.example/inbox"); err != nil && !isValidation(err, "identifier") {
		t.Fatal(err)
	}
	return r, acme
}

func TestAnAgentsRequestIsRoutedOnlyOnceItsProofIsChecked(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	r, acme := proofsAgentRequest(t, db, "authorized_agent")
	route := func() error {
		_, err := db.Route(ctx, modeltest.Staff, la(t), r.ID, "https://console.example/inbox")
		return err
	}
	if err := route(); !isConflict(err) || !strings.Contains(err.Error(), "proof of authority") {
		t.Fatalf("routing before any proof: %v, want a conflict naming the proof", err)
	}

	// Bad files are refused, naming the field; nothing is stored.
	for _, tc := range []struct {
		name string
		kind string
		data []byte
		want string
	}{
		{"a text file named .pdf", requests.ProofSignedPermission, []byte("I, Jane, allow Agent Smith."), "file"},
		{"an empty file", requests.ProofSignedPermission, nil, "file"},
		{"too large", requests.ProofSignedPermission, append(bytes.Clone(proofsPDF), make([]byte, requests.MaxProofBytes)...), "file"},
		{"an unknown kind", "selfie", proofsPDF, "kind"},
	} {
		if _, err := db.UploadProof(ctx, modeltest.Staff, r.ID, tc.kind, "proof.pdf", tc.data); !isValidation(err, tc.want) {
			t.Errorf("%s: %v, want a validation error on %s", tc.name, err, tc.want)
		}
	}
	if ps, _ := db.Proofs(ctx, modeltest.Staff, r.ID); len(ps) != 0 {
		t.Fatalf("refused uploads stored %d proofs", len(ps))
	}
	if _, err := db.UploadProof(ctx, customerActor(t, db, acme), r.ID, requests.ProofSignedPermission, "p.pdf", proofsPDF); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a customer user uploading a proof: %v, want not found", err)
	}

	p, err := db.UploadProof(ctx, modeltest.Staff, r.ID, requests.ProofSignedPermission, `..\C:\scans\permission "Jane".pdf`, proofsPDF)
	if err != nil {
		t.Fatal(err)
	}
	if p.ContentType != "application/pdf" || p.FileName != "permission Jane.pdf" || p.Size != int64(len(proofsPDF)) {
		t.Errorf("stored proof %+v", p)
	}
	// Sealed at rest: the database holds no readable copy.
	var stored string
	if err := db.Gorm.Raw("SELECT data FROM request_proofs WHERE id = ?", p.ID).Scan(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, "sealed:v1:") || strings.Contains(stored, "Agent Smith") {
		t.Errorf("the proof is not sealed at rest: %.60q", stored)
	}
	if err := route(); !isConflict(err) {
		t.Fatalf("routing with an unchecked proof: %v, want a conflict", err)
	}

	// Staff read it (audited), then record the check.
	got, data, err := db.ProofFile(ctx, modeltest.Staff, r.ID, p.ID)
	if err != nil || !bytes.Equal(data, proofsPDF) || got.Kind != requests.ProofSignedPermission {
		t.Fatalf("download: %v, %d bytes", err, len(data))
	}
	if d := lastAuditDetails(t, db, "request.proof_download", r.ID); !strings.Contains(d, p.ID) {
		t.Errorf("the download is not audited: %s", d)
	}
	if err := db.CheckProof(ctx, modeltest.Staff, r.ID, p.ID, "", requests.ProofRejected, ""); !isValidation(err, "note") {
		t.Errorf("a rejection without a reason: %v", err)
	}
	if err := db.CheckProof(ctx, modeltest.Staff, r.ID, p.ID, requests.ProofPowerOfAttorney, requests.ProofAccepted, "signature matches the ID shown"); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckProof(ctx, modeltest.Staff, r.ID, p.ID, "", requests.ProofAccepted, ""); !isConflict(err) {
		t.Errorf("checking twice: %v, want a conflict", err)
	}
	d := lastAuditDetails(t, db, "request.proof_check", r.ID)
	for _, want := range []string{`"outcome":"accepted"`, `"kind":"power_of_attorney"`} {
		if !strings.Contains(d, want) {
			t.Errorf("the check's audit entry %s lacks %s", d, want)
		}
	}
	if err := route(); err != nil {
		t.Fatalf("routing after the proof was accepted: %v", err)
	}

	// Closing the request deletes the file and keeps the check.
	if _, err := db.SetStatus(ctx, modeltest.Staff, r.ID, requests.StatusWithdrawn, "the agent withdrew it"); err != nil {
		t.Fatal(err)
	}
	ps, err := db.Proofs(ctx, modeltest.Staff, r.ID)
	if err != nil || len(ps) != 1 {
		t.Fatalf("proofs after closing: %v %v", ps, err)
	}
	kept := ps[0]
	if kept.DeletedAt == nil || kept.FileName != "" || kept.Size != 0 || kept.CheckNote != "" {
		t.Errorf("the closed request still holds the file's details: %+v", kept)
	}
	if kept.CheckedBy != modeltest.Staff.Label || kept.CheckedAt == nil || kept.Kind != requests.ProofPowerOfAttorney || kept.CheckOutcome != requests.ProofAccepted {
		t.Errorf("the check was not kept: %+v", kept)
	}
	db.Gorm.Raw("SELECT data FROM request_proofs WHERE id = ?", p.ID).Scan(&stored)
	if stored != "" {
		t.Errorf("the sealed file is still stored")
	}
	if _, _, err := db.ProofFile(ctx, modeltest.Staff, r.ID, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("downloading a deleted proof: %v, want not found", err)
	}
	if tl := timelineText(t, db, r); !strings.Contains(tl, "proof file(s) of authority deleted") {
		t.Errorf("the timeline does not say the proof was deleted:\n%s", tl)
	}
}

func TestAParentsRequestProceedsWithoutProofOnlyWithAReason(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	r, _ := proofsAgentRequest(t, db, "parent")
	if _, err := db.Route(ctx, modeltest.Staff, la(t), r.ID, "https://console.example/inbox"); !isConflict(err) || !strings.Contains(err.Error(), "a parent") {
		t.Fatalf("routing a parent's request without proof: %v", err)
	}
	if err := db.OverrideProof(ctx, modeltest.Staff, r.ID, "  "); !isValidation(err, "override") {
		t.Errorf("an override without a reason: %v", err)
	}
	if err := db.OverrideProof(ctx, modeltest.Staff, r.ID, "the child's school confirmed the parent in writing"); err != nil {
		t.Fatal(err)
	}
	if d := lastAuditDetails(t, db, "request.proof_override", r.ID); !strings.Contains(d, "school confirmed") {
		t.Errorf("the override's reason is not audited: %s", d)
	}
	if _, err := db.Route(ctx, modeltest.Staff, la(t), r.ID, "https://console.example/inbox"); err != nil {
		t.Fatalf("routing after the override: %v", err)
	}
	// An end user's own request needs no proof.
	own := newRequest(t, db, requests.RequestInput{Type: calendar.TypeAccess, Regime: "gdpr", Requester: requests.Requester{Email: janeEmail}})
	if _, err := db.UploadProof(ctx, modeltest.Staff, own.ID, requests.ProofOtherDocument, "p.pdf", proofsPDF); !isValidation(err, "proof") {
		t.Errorf("a proof for the person's own request: %v", err)
	}
}

func TestMergingAnAgentsDuplicateDeletesItsProof(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	r, _ := proofsAgentRequest(t, db, "authorized_agent")
	keep := newRequest(t, db, requests.RequestInput{Type: calendar.TypeAccess, Regime: "gdpr", Identifiers: []string{janePhone},
		Requester: requests.Requester{Email: "agent@example.com", Relationship: "authorized_agent", Proof: "signed"}})
	p, err := db.UploadProof(ctx, modeltest.Staff, r.ID, requests.ProofSignedPermission, "p.pdf", proofsPDF)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MergeDuplicate(ctx, modeltest.Staff, r.ID, keep.Reference, "the agent wrote twice"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.ProofFile(ctx, modeltest.Staff, r.ID, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the merged duplicate's proof is still downloadable: %v", err)
	}
}

// A key rotation re-seals proof files too: after it, the new key alone
// opens them.
func TestAProofIsResealedWhenTheKeyRotates(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	r, _ := proofsAgentRequest(t, db, "authorized_agent")
	oldKey, newKey := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(oldKey)
	_, _ = rand.Read(newKey)
	old, _ := store.NewKeyring(oldKey)
	// This test's keys only: the server secret sealed by the fixture's
	// keyring goes (nothing here needs it).
	if err := db.Gorm.Exec("DELETE FROM settings WHERE key = 'server_secret'").Error; err != nil {
		t.Fatal(err)
	}
	db.UseKeyring(old)
	p, err := db.UploadProof(ctx, modeltest.Staff, r.ID, requests.ProofSignedPermission, "p.pdf", proofsPDF)
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := store.NewKeyring(newKey, oldKey)
	db.UseKeyring(rotated)
	if n, err := db.SealSecrets(ctx); err != nil || n < 1 {
		t.Fatalf("SealSecrets after a rotation = %d, %v", n, err)
	}
	onlyNew, _ := store.NewKeyring(newKey)
	db.UseKeyring(onlyNew)
	if _, data, err := db.ProofFile(ctx, modeltest.Staff, r.ID, p.ID); err != nil || !bytes.Equal(data, proofsPDF) {
		t.Errorf("the proof under the new key alone: %v", err)
	}
}
