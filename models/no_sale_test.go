package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	outbox "github.com/sendara/console/models/outbox"

	requests "github.com/sendara/console/models/requests"

	"context"
	"strings"
	"testing"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestAnOptOutOfSaleIsSuppressedAtIntakeAndAnsweredOnceWithTheNoSaleStatement(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := newCustomer(t, db, "acme")
	contact, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"+14155550101"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	sale := newRequest(t, db, requests.RequestInput{Type: calendar.TypeOptOutSale, Regime: "ccpa",
		Requester: requests.Requester{Name: "Jane", Email: "jane@example.com"}, Identifiers: []string{"+14155550101"}})
	access := newRequest(t, db, requests.RequestInput{Type: calendar.TypeKnow, Regime: "ccpa", Requester: requests.Requester{Email: "joe@example.com"}})
	if c, _ := db.Contact(ctx, modeltest.Staff, contact.ID); !c.Suppressed {
		t.Fatal("the opt-out of sale did not suppress the person at intake")
	}
	tests := []struct {
		name  string
		actor store.Actor
		id    string
		ok    bool
	}{
		{"a customer user", store.CustomerUser("u", "a@acme.test", acme.ID, ""), sale.ID, false},
		{"a request to know", modeltest.Staff, access.ID, false},
		{"the opt-out of sale", modeltest.Staff, sale.ID, true},
		{"the same again", modeltest.Staff, sale.ID, false},
	}
	for _, tt := range tests {
		if err := db.AnswerNoSale(ctx, tt.actor, tt.id); (err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok %v", tt.name, err, tt.ok)
		}
	}
	var bodies []string
	db.Gorm.Table("outbox").Where("to_addr = ? AND kind = ?", "jane@example.com", outbox.MailNoSale).Pluck("body_text", &bodies)
	if len(bodies) != 1 || !strings.Contains(bodies[0], "Sendara does not sell personal information") || !strings.Contains(bodies[0], acme.Name) {
		t.Errorf("answers: %q", bodies)
	}
	if len(auditEvents(t, db, "request.no_sale_answer")) != 1 {
		t.Error("the answer was not audited")
	}
}
