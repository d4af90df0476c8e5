package models_test

import (
	consent "github.com/sendara/console/models/consent"
	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// TestContactsPageIsScopedInTheDataLayer: a customer actor asking for
// another tenant's contacts (by its id) gets none, whatever it names; its
// own are paged oldest first with a next id until the end; the CRM id
// lookup is scoped the same way.
func TestContactsPageIsScopedInTheDataLayer(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, err := db.CreateCustomer(ctx, modeltest.Staff, customers.CustomerInput{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := db.CreateCustomer(ctx, modeltest.Staff, customers.CustomerInput{Slug: "other", Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	var acmeIDs []string
	for i := range 5 {
		c, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{fmt.Sprintf("+1415555%04d", i)}, CRMID: "HS-1"}, "US")
		if err != nil {
			t.Fatal(err)
		}
		acmeIDs = append(acmeIDs, c.ID)
		if _, err := db.CreateContact(ctx, modeltest.Staff, other.ID, consent.ContactInput{Identifiers: []string{fmt.Sprintf("+1415666%04d", i)}, CRMID: "HS-1"}, "US"); err != nil {
			t.Fatal(err)
		}
	}
	acmeKey := store.CustomerKey(uuid.NewString(), "k", acme.ID, "")
	tests := []struct {
		name      string
		actor     store.Actor
		customer  string
		after     string
		limit     int
		wantIDs   []string
		wantNext  string
		wantField string
	}{
		{"own first page", acmeKey, acme.ID, "", 2, acmeIDs[:2], acmeIDs[1], ""},
		{"own next page", acmeKey, acme.ID, acmeIDs[1], 2, acmeIDs[2:4], acmeIDs[3], ""},
		{"own last page", acmeKey, acme.ID, acmeIDs[3], 2, acmeIDs[4:], "", ""},
		{"exactly a page: no next", acmeKey, acme.ID, "", 5, acmeIDs, "", ""},
		{"another tenant's id", acmeKey, other.ID, "", 100, nil, "", ""},
		{"staff reads the tenant it names", modeltest.Staff, acme.ID, acmeIDs[2], 0, acmeIDs[3:], "", ""},
		{"limit over the maximum", acmeKey, acme.ID, "", consent.APIContactsMax + 1, nil, "", "limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs, next, err := db.ContactsPage(ctx, tc.actor, tc.customer, tc.after, tc.limit)
			if tc.wantField != "" {
				if v, ok := errs.AsValidation(err); !ok || v.Field != tc.wantField {
					t.Fatalf("err %v, want a validation error on %s", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != len(tc.wantIDs) || next != tc.wantNext {
				t.Fatalf("%d contacts, next %q; want %d, next %q", len(cs), next, len(tc.wantIDs), tc.wantNext)
			}
			for i := range cs {
				if cs[i].ID != tc.wantIDs[i] || len(cs[i].Identifiers) != 1 || cs[i].States == nil {
					t.Errorf("contact %d: %s with %d identifiers, want %s with its identifier and states", i, cs[i].ID, len(cs[i].Identifiers), tc.wantIDs[i])
				}
			}
		})
	}
	if cs, err := db.ContactsByCRMID(ctx, acmeKey, other.ID, "HS-1"); err != nil || len(cs) != 0 {
		t.Errorf("acme's key found other's contacts by crm id: %d, %v", len(cs), err)
	}
	if cs, err := db.ContactsByCRMID(ctx, acmeKey, acme.ID, "HS-1"); err != nil || len(cs) != 5 {
		t.Errorf("acme's contacts by crm id: %d, %v", len(cs), err)
	}
	if _, _, err := db.ContactsPage(ctx, acmeKey, "not-an-id", "", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("malformed customer id: %v", err)
	}
}

// FuzzContactCursor: a cursor decodes only to a canonical UUID, and every
// cursor the API makes decodes to the id it was made from.
func FuzzContactCursor(f *testing.F) {
	f.Add("MDFhMjQ4OGMtNTE5OC03MjFjLThlY2QtNGZmMTgzNDA0ZTlk")
	f.Add("")
	f.Add("aGVsbG8")
	f.Add("e3tmb299fQ==")
	f.Fuzz(func(t *testing.T, cursor string) {
		id, err := consent.DecodeContactCursor(cursor)
		if err != nil {
			if v, ok := errs.AsValidation(err); !ok || v.Field != "after" {
				t.Fatalf("error %v does not name after", err)
			}
			return
		}
		u, perr := uuid.Parse(id)
		if perr != nil || u.String() != id {
			t.Fatalf("decoded %q, not a canonical id", id)
		}
		if back, err := consent.DecodeContactCursor(consent.EncodeContactCursor(id)); err != nil || back != id {
			t.Fatalf("round trip of %s gave %q, %v", id, back, err)
		}
	})
}
