package models_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

// Identifiers found in a mail are proposals (models/proposals.go); staff
// add and remove identifiers and correct the requester, each audited with
// before and after.
func TestIdentifiersAndRequesterAreEditedWithTheirHistory(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	body := "Please delete everything you hold on me.\n\n--\nJane Doe\nMobile: (415) 555-0188\nWork: jane.doe@work.example\n"
	r, _, err := db.ReceiveMail(ctx, la(t), "US", requests.MailIntake{MessageID: "sig@example.com", FromAddr: janeEmail, Subject: "Delete my data",
		Body: body, Raw: []byte("Subject: Delete my data\r\n\r\n" + body)})
	if err != nil {
		t.Fatal(err)
	}
	proposals, err := db.IdentifierProposals(ctx, modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var proposed []string
	for _, p := range proposals {
		proposed = append(proposed, p.Value)
	}
	slices.Sort(proposed)
	if !slices.Equal(proposed, []string{"+14155550188", "jane.doe@work.example"}) {
		t.Fatalf("proposed %v, want the signature's email and phone", proposed)
	}
	if ids := r.Identifiers(); len(ids) != 1 || ids[0] != janeEmail {
		t.Fatalf("a proposal was applied by itself: %v", ids)
	}
	r, err = db.SetIdentifiers(ctx, modeltest.Staff, r.ID, []string{proposed[0]}, nil, "US")
	if err != nil {
		t.Fatal(err)
	}
	if d := lastAuditDetails(t, db, "request.identifiers", r.ID); !strings.Contains(d, `"before":["jane@example.com"]`) || !strings.Contains(d, "+14155550188") {
		t.Errorf("the audit entry lacks before and after: %s", d)
	}
	idents, _ := db.SubjectIdentifiers(ctx, r)
	for _, id := range idents {
		if id.Value == "+14155550188" && id.VerifiedAt != nil {
			t.Error("an added identifier is verified without anyone verifying it")
		}
	}
	if _, err := db.SetIdentifiers(ctx, modeltest.Staff, r.ID, nil, []string{janeEmail, "+14155550188"}, "US"); !isValidation(err, "identifier") {
		t.Errorf("removing every identifier: %v", err)
	}
	if _, err := db.UpdateRequester(ctx, modeltest.Staff, r.ID, requests.Requester{Name: "Jane Doe", Email: "JANE.DOE@work.example"}, "US"); err != nil {
		t.Fatal(err)
	}
	if d := lastAuditDetails(t, db, "request.requester", r.ID); !strings.Contains(d, `"email":"jane@example.com"`) || !strings.Contains(d, `"email":"jane.doe@work.example"`) {
		t.Errorf("the requester's audit entry lacks before and after: %s", d)
	}
}
