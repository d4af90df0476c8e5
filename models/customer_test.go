package models_test

import (
	accounts "github.com/sendara/console/models/accounts"
	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// Customers.

func TestCreateCustomerRefusesInvalidInput(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	tests := []struct {
		name  string
		in    customers.CustomerInput
		field string
	}{
		{"an empty slug", customers.CustomerInput{Slug: "", Name: "Acme"}, "slug"},
		{"a slug with spaces and punctuation", customers.CustomerInput{Slug: "acme inc!", Name: "Acme"}, "slug"},
		{"a slug starting with a hyphen", customers.CustomerInput{Slug: "-acme", Name: "Acme"}, "slug"},
		{"a slug ending with a hyphen", customers.CustomerInput{Slug: "acme-", Name: "Acme"}, "slug"},
		{"a slug of 65 characters", customers.CustomerInput{Slug: strings.Repeat("a", 65), Name: "Acme"}, "slug"},
		{"an empty name", customers.CustomerInput{Slug: "acme", Name: "   "}, "name"},
		{"a name of 201 characters", customers.CustomerInput{Slug: "acme", Name: strings.Repeat("n", 201)}, "name"},
		{"an unknown CRM", customers.CustomerInput{Slug: "acme", Name: "Acme", CRMType: "spreadsheet"}, "crm"},
		{"a contact email that is not one", customers.CustomerInput{Slug: "acme", Name: "Acme", ContactEmail: "privacy at acme"}, "contact_email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := db.CreateCustomer(t.Context(), modeltest.Staff, tt.in)
			wantInvalid(t, err, tt.field)
			if c != nil {
				t.Errorf("CreateCustomer returned a customer along with the error")
			}
		})
	}
	if cs, err := db.Customers(t.Context(), modeltest.Staff); err != nil || len(cs) != 0 {
		t.Errorf("refused CreateCustomer calls left %d customers (%v), want none", len(cs), err)
	}
}

func TestCreateCustomerNormalizesAndAuditsTheNewTenant(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)

	c, err := db.CreateCustomer(t.Context(), modeltest.Staff, customers.CustomerInput{
		Slug: "  Acme-EU ", Name: " Acme Europe ", ContactEmail: "Privacy@Acme.EU", CRMType: "HubSpot"})
	if err != nil {
		t.Fatalf("CreateCustomer: %v", err)
	}

	got, err := db.Customer(t.Context(), modeltest.Staff, c.ID)
	if err != nil {
		t.Fatalf("Customer: %v", err)
	}
	if got.Slug != "acme-eu" || got.Name != "Acme Europe" || got.ContactEmail != "privacy@acme.eu" ||
		got.CRMType != "hubspot" || got.Status != customers.CustomerActive {
		t.Errorf("stored customer = %+v, want slug acme-eu, name Acme Europe, email privacy@acme.eu, crm hubspot, active", got)
	}
	if e := onlyAuditEvent(t, db, "customer.create"); e.ObjectID != c.ID || e.CustomerID != c.ID {
		t.Errorf("customer.create event on %q in tenant %q, want %s", e.ObjectID, e.CustomerID, c.ID)
	}
}

func TestCreateCustomerDefaultsTheCRMToOther(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)

	c := newCustomer(t, db, "acme")

	if c.CRMType != "other" {
		t.Errorf("CRMType = %q, want other", c.CRMType)
	}
}

func TestCreateCustomerRefusesATakenSlug(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	newCustomer(t, db, "acme")

	_, err := db.CreateCustomer(t.Context(), modeltest.Staff, customers.CustomerInput{Slug: "ACME", Name: "Another Acme"})

	c, ok := errs.AsConflict(err)
	if !ok || c.Field != "slug" {
		t.Fatalf("CreateCustomer with a taken slug = %v, want a ConflictError on slug", err)
	}
}

func TestUpdateCustomerAuditsWhatChangedBeforeAndAfter(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	c := newCustomer(t, db, "acme")

	updated, err := db.UpdateCustomer(t.Context(), modeltest.Staff, c.ID,
		customers.CustomerInput{Slug: "acme", Name: "Acme Europe", CRMType: "pipedrive"})
	if err != nil {
		t.Fatalf("UpdateCustomer: %v", err)
	}

	if updated.Name != "Acme Europe" || updated.CRMType != "pipedrive" {
		t.Errorf("updated customer = %+v, want name Acme Europe and crm pipedrive", updated)
	}
	e := onlyAuditEvent(t, db, "customer.update")
	if e.ObjectID != c.ID {
		t.Errorf("customer.update event on %q, want %s", e.ObjectID, c.ID)
	}
	d := detailsOf(t, e)
	want := map[string][2]string{"name": {"Customer acme", "Acme Europe"}, "crm": {"other", "pipedrive"}}
	if len(d) != len(want) {
		t.Errorf("customer.update details = %v, want exactly the changed fields %v", d, want)
	}
	for field, ba := range want {
		change, _ := d[field].(map[string]any)
		if change["before"] != ba[0] || change["after"] != ba[1] {
			t.Errorf("customer.update details[%s] = %v, want before %q after %q", field, d[field], ba[0], ba[1])
		}
	}
}

func TestUpdateCustomerRefusesASlugTakenByAnother(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	newCustomer(t, db, "acme")
	other := newCustomer(t, db, "other")

	_, err := db.UpdateCustomer(t.Context(), modeltest.Staff, other.ID, customers.CustomerInput{Slug: "acme", Name: "Other"})

	if c, ok := errs.AsConflict(err); !ok || c.Field != "slug" {
		t.Fatalf("UpdateCustomer to a taken slug = %v, want a ConflictError on slug", err)
	}
	if got, _ := db.Customer(t.Context(), modeltest.Staff, other.ID); got.Slug != "other" {
		t.Errorf("slug after the refused update = %q, want other", got.Slug)
	}
}

func TestCancelCustomerMarksItCancelled(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	c := newCustomer(t, db, "acme")

	if err := db.CancelCustomer(t.Context(), modeltest.Staff, c.ID); err != nil {
		t.Fatalf("CancelCustomer: %v", err)
	}

	got, err := db.Customer(t.Context(), modeltest.Staff, c.ID)
	if err != nil {
		t.Fatalf("Customer: %v", err)
	}
	if got.Status != customers.CustomerCancelled || got.CancelledAt == nil {
		t.Errorf("after CancelCustomer status = %q, cancelled_at = %v; want cancelled with a time", got.Status, got.CancelledAt)
	}
	if e := onlyAuditEvent(t, db, "customer.cancel"); e.ObjectID != c.ID {
		t.Errorf("customer.cancel event on %q, want %s", e.ObjectID, c.ID)
	}
}

func TestCancellingACancelledCustomerIsAConflict(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	c := newCustomer(t, db, "acme")
	if err := db.CancelCustomer(t.Context(), modeltest.Staff, c.ID); err != nil {
		t.Fatalf("first CancelCustomer: %v", err)
	}

	err := db.CancelCustomer(t.Context(), modeltest.Staff, c.ID)

	if _, ok := errs.AsConflict(err); !ok {
		t.Fatalf("second CancelCustomer = %v, want a ConflictError", err)
	}
	if n := len(auditEvents(t, db, "customer.cancel")); n != 1 {
		t.Errorf("customer.cancel events = %d, want 1", n)
	}
}

func TestCustomerActorCannotReachAnotherTenant(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	a := newCustomer(t, db, "acme")
	b := newCustomer(t, db, "other")
	actor := store.CustomerUser(uuid.NewString(), "admin@acme.test", a.ID, "")

	tests := []struct {
		name string
		call func() error
	}{
		{"Customer", func() error { _, err := db.Customer(t.Context(), actor, b.ID); return err }},
		{"UpdateCustomer", func() error {
			_, err := db.UpdateCustomer(t.Context(), actor, b.ID, customers.CustomerInput{Slug: "other", Name: "Taken over"})
			return err
		}},
		{"CancelCustomer", func() error { return db.CancelCustomer(t.Context(), actor, b.ID) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s on another tenant = %v, want ErrNotFound", tt.name, err)
			}
		})
	}
	if got, err := db.Customer(t.Context(), actor, a.ID); err != nil || got.ID != a.ID {
		t.Errorf("Customer on the actor's own tenant = %v, %v; want it found", got, err)
	}
	if got, _ := db.Customer(t.Context(), modeltest.Staff, b.ID); got.Name != b.Name || got.Status != customers.CustomerActive {
		t.Errorf("the other tenant changed: %+v", got)
	}
}

func TestCustomersListsOnlyTheCustomerActorsOwnTenant(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	a := newCustomer(t, db, "acme")
	newCustomer(t, db, "other")
	actor := store.CustomerUser(uuid.NewString(), "", a.ID, "")

	cs, err := db.Customers(t.Context(), actor)
	if err != nil {
		t.Fatalf("Customers: %v", err)
	}

	if len(cs) != 1 || cs[0].ID != a.ID {
		t.Errorf("Customers for acme's actor = %+v, want only acme", cs)
	}
}

func TestCustomerWithAMalformedIDIsNotFound(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)

	if _, err := db.Customer(t.Context(), modeltest.Staff, "not-a-uuid"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Customer(not-a-uuid) = %v, want ErrNotFound", err)
	}
}

// API keys.

func TestCreateAPIKeyMarksTheSecretWithItsKind(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	tests := []struct {
		name       string
		customerID string
		prefix     string
	}{
		{"a customer key", acme.ID, "spc_live_"},
		{"a staff key", "", "spc_staff_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, secret, err := db.CreateAPIKey(t.Context(), modeltest.Staff, tt.customerID, "CRM sync")
			if err != nil {
				t.Fatalf("CreateAPIKey: %v", err)
			}
			if !strings.HasPrefix(secret, tt.prefix) || len(secret) < len(tt.prefix)+40 {
				t.Errorf("secret %q, want %q followed by at least 40 random characters", secret, tt.prefix)
			}
			if !strings.HasPrefix(secret, k.Prefix) || !strings.HasPrefix(k.Prefix, tt.prefix) {
				t.Errorf("key prefix %q is not the start of its secret %q", k.Prefix, secret)
			}
			if k.Tenant() != tt.customerID {
				t.Errorf("key tenant = %q, want %q", k.Tenant(), tt.customerID)
			}
			if strings.Contains(k.SecretHash, secret[len(tt.prefix):]) {
				t.Errorf("the stored hash contains the secret")
			}
		})
	}
}

func TestAuthenticateKeyFindsTheKeyAndNotesItsUse(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	k, secret, err := db.CreateAPIKey(t.Context(), modeltest.Staff, acme.ID, "")
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	if k.LastUsedAt != nil {
		t.Fatalf("a new key has LastUsedAt %v, want nil", k.LastUsedAt)
	}

	got, err := db.AuthenticateKey(t.Context(), secret)
	if err != nil {
		t.Fatalf("AuthenticateKey: %v", err)
	}

	if got.ID != k.ID || got.Tenant() != acme.ID {
		t.Errorf("AuthenticateKey found key %s of tenant %q, want %s of %s", got.ID, got.Tenant(), k.ID, acme.ID)
	}
	if got.LastUsedAt == nil {
		t.Errorf("AuthenticateKey returned LastUsedAt nil")
	}
	keys, err := db.APIKeys(t.Context(), modeltest.Staff)
	if err != nil || len(keys) != 1 || keys[0].LastUsedAt == nil {
		t.Errorf("stored keys = %+v (%v), want one with LastUsedAt set", keys, err)
	}
}

func TestAuthenticateKeyRefusesSecretsThatAreNotLiveKeys(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	_, secret, err := db.CreateAPIKey(t.Context(), modeltest.Staff, acme.ID, "")
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	last := secret[len(secret)-1]
	altered := secret[:len(secret)-1] + map[bool]string{true: "b", false: "a"}[last == 'a']

	for _, s := range []string{"", "spc_live_", "spc_live_unknown", "Bearer " + secret, strings.ToUpper(secret), altered} {
		if _, err := db.AuthenticateKey(t.Context(), s); !errors.Is(err, accounts.ErrBadKey) {
			t.Errorf("AuthenticateKey(%q) = %v, want ErrBadKey", s, err)
		}
	}
}

func TestRevokedKeyNoLongerAuthenticates(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	k, secret, err := db.CreateAPIKey(t.Context(), modeltest.Staff, acme.ID, "")
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}

	if err := db.RevokeAPIKey(t.Context(), modeltest.Staff, k.ID); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}

	if _, err := db.AuthenticateKey(t.Context(), secret); !errors.Is(err, accounts.ErrBadKey) {
		t.Errorf("AuthenticateKey after revocation = %v, want ErrBadKey", err)
	}
	if e := onlyAuditEvent(t, db, "apikey.revoke"); e.ObjectID != k.ID || e.CustomerID != acme.ID {
		t.Errorf("apikey.revoke event on %q in %q, want %s in %s", e.ObjectID, e.CustomerID, k.ID, acme.ID)
	}
}

func TestCustomerActorCannotCreateAKeyOutsideItsTenant(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	other := newCustomer(t, db, "other")
	actor := newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, "").Actor(testIP)
	_, _, errAbsent := db.CreateAPIKey(t.Context(), actor, uuid.NewString(), "")

	tests := []struct {
		name       string
		customerID string
	}{
		{"another customer's key", other.ID},
		{"a staff key", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, secret, err := db.CreateAPIKey(t.Context(), actor, tt.customerID, "")
			if err == nil || k != nil || secret != "" {
				t.Fatalf("CreateAPIKey = %v, %q, %v; want refused", k, secret, err)
			}
			// Another tenant is answered exactly as a customer that does not exist.
			if err.Error() != errAbsent.Error() {
				t.Errorf("CreateAPIKey error %q differs from the one for an absent customer %q", err, errAbsent)
			}
		})
	}
	if keys, err := db.APIKeys(t.Context(), modeltest.Staff); err != nil || len(keys) != 0 {
		t.Errorf("refused CreateAPIKey calls left %d keys (%v), want none", len(keys), err)
	}
}

func TestCustomerActorCannotRevokeAnotherTenantsKey(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	other := newCustomer(t, db, "other")
	actor := newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, "").Actor(testIP)
	k, secret, err := db.CreateAPIKey(t.Context(), modeltest.Staff, other.ID, "")
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}

	err = db.RevokeAPIKey(t.Context(), actor, k.ID)

	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeAPIKey of another tenant's key = %v, want ErrNotFound", err)
	}
	if _, err := db.AuthenticateKey(t.Context(), secret); err != nil {
		t.Errorf("the other tenant's key stopped working: %v", err)
	}
}

func TestAPIKeysListsOnlyTheCustomerActorsOwnKeys(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	other := newCustomer(t, db, "other")
	actor := newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, "").Actor(testIP)
	own, _, err := db.CreateAPIKey(t.Context(), actor, acme.ID, "mine")
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	for _, customerID := range []string{other.ID, ""} {
		if _, _, err := db.CreateAPIKey(t.Context(), modeltest.Staff, customerID, ""); err != nil {
			t.Fatalf("CreateAPIKey: %v", err)
		}
	}

	keys, err := db.APIKeys(t.Context(), actor)
	if err != nil {
		t.Fatalf("APIKeys: %v", err)
	}

	if len(keys) != 1 || keys[0].ID != own.ID {
		t.Errorf("APIKeys for acme's admin = %+v, want only %s", keys, own.ID)
	}
}

func TestCancelledCustomersKeysStopWorking(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	_, secret, err := db.CreateAPIKey(t.Context(), modeltest.Staff, acme.ID, "")
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}

	if err := db.CancelCustomer(t.Context(), modeltest.Staff, acme.ID); err != nil {
		t.Fatalf("CancelCustomer: %v", err)
	}

	if _, err := db.AuthenticateKey(t.Context(), secret); !errors.Is(err, accounts.ErrBadKey) {
		t.Errorf("AuthenticateKey for a cancelled customer's key = %v, want ErrBadKey", err)
	}
}

func TestCancelledCustomerGetsNoNewKeys(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	if err := db.CancelCustomer(t.Context(), modeltest.Staff, acme.ID); err != nil {
		t.Fatalf("CancelCustomer: %v", err)
	}

	_, _, err := db.CreateAPIKey(t.Context(), modeltest.Staff, acme.ID, "")

	wantInvalid(t, err, "customer")
}
