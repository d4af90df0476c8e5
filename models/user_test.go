package models_test

import (
	accounts "github.com/sendara/console/models/accounts"
	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// Fixtures shared by the package's tests.

const (
	testIP = "192.0.2.10"
	// goodPassword passes the password policy for every fixture email.
	goodPassword = "violet tractor murmurs 1987"
)

var testPolicy = accounts.SessionPolicy{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}

func newCustomer(t testing.TB, db *models.DB, slug string) *customers.Customer {
	t.Helper()
	c, err := db.CreateCustomer(t.Context(), modeltest.Staff, customers.CustomerInput{Slug: slug, Name: "Customer " + slug})
	if err != nil {
		t.Fatalf("create customer %s: %v", slug, err)
	}
	return c
}

// newUser creates a user as the system; an empty password leaves the user
// waiting for an invitation (and skips the slow hash).
func newUser(t testing.TB, db *models.DB, email string, role accounts.Role, customerID, password string) *accounts.User {
	t.Helper()
	u, err := db.CreateUser(t.Context(), modeltest.Staff, accounts.UserInput{
		Email: email, Name: "Test " + string(role), Role: role, CustomerID: customerID, Password: password})
	if err != nil {
		t.Fatalf("create user %s (%s): %v", email, role, err)
	}
	return u
}

// auditEvents lists the events with exactly this action, newest first.
func auditEvents(t testing.TB, db *models.DB, action string) []store.AuditEvent {
	t.Helper()
	all, err := db.ListAudit(t.Context(), modeltest.Staff, store.AuditFilter{Action: action, Limit: 500})
	if err != nil {
		t.Fatalf("list audit events %s: %v", action, err)
	}
	var out []store.AuditEvent
	for _, e := range all {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// onlyAuditEvent returns the single event with this action.
func onlyAuditEvent(t testing.TB, db *models.DB, action string) store.AuditEvent {
	t.Helper()
	es := auditEvents(t, db, action)
	if len(es) != 1 {
		t.Fatalf("audit events %s: got %d, want 1", action, len(es))
	}
	return es[0]
}

func detailsOf(t testing.TB, e store.AuditEvent) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(e.Details), &d); err != nil {
		t.Fatalf("audit event %d details %q: %v", e.Seq, e.Details, err)
	}
	return d
}

// wantInvalid fails unless err is a ValidationError on field.
func wantInvalid(t testing.TB, err error, field string) {
	t.Helper()
	v, ok := errs.AsValidation(err)
	if !ok {
		t.Fatalf("error = %v, want a ValidationError on %q", err, field)
	}
	if v.Field != field {
		t.Fatalf("ValidationError on %q (%s), want field %q", v.Field, v.Message, field)
	}
}

func loadUser(t testing.TB, db *models.DB, id string) *accounts.User {
	t.Helper()
	u, err := db.User(t.Context(), modeltest.Staff, id)
	if err != nil {
		t.Fatalf("load user %s: %v", id, err)
	}
	return u
}

// Email normalization.

func TestNormalizeEmailLowerCasesAndTrims(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Jane.Doe@Example.COM", "jane.doe@example.com"},
		{"  ann@example.com\t", "ann@example.com"},
		{"mailto:ann@example.com", "ann@example.com"},
		{"ann+billing@mail.example.co.uk", "ann+billing@mail.example.co.uk"},
	}
	for _, tt := range tests {
		got, err := store.NormalizeEmail("email", tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeEmailRejectsWhatIsNotAPlainAddress(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "ann", "ann@localhost", "Ann <ann@example.com>", "ann@@example.com", "ann@example.com, bob@example.com"} {
		_, err := store.NormalizeEmail("contact", in)
		v, ok := errs.AsValidation(err)
		if !ok || v.Field != "contact" {
			t.Errorf("NormalizeEmail(%q) error = %v, want a ValidationError on the given field", in, err)
		}
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"Jane.Doe@Example.COM", "mailto:a@b.co", " x@y.z ", "a@b", "\"q u\"@x.org", "@", "mailto:", "İ@ß.com", "a@b.c\u212a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := store.NormalizeEmail("email", in)
		if err != nil {
			if _, ok := errs.AsValidation(err); !ok {
				t.Fatalf("NormalizeEmail(%q) error %v is not a ValidationError", in, err)
			}
			return
		}
		if out != strings.ToLower(out) {
			t.Errorf("NormalizeEmail(%q) = %q, not lower-case", in, out)
		}
		again, err := store.NormalizeEmail("email", out)
		if err != nil || again != out {
			t.Errorf("NormalizeEmail(%q) = %q, but normalizing that gives %q, %v", in, out, again, err)
		}
	})
}

// Password policy.

func TestCheckPasswordAppliesThePolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		email    string
		ok       bool
	}{
		{"eleven characters are too few", "abcdefghijk", "ann@example.com", false},
		{"a repeated common word is refused", "passwordpassword", "ann@example.com", false},
		{"a digit run is refused", "123456789012", "ann@example.com", false},
		{"the email's local part plus a year is refused", "xylophonist2024", "xylophonist@acme.io", false},
		{"the email's name parts run together are refused", "margaretthompson", "margaret.thompson@sendara.com", false},
		{"a passphrase with a number is accepted", "long enough passphrase 42", "ann@example.com", true},
		{"a four-word passphrase is accepted", "correct horse battery staple", "ann@example.com", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := accounts.CheckPassword(tt.password, tt.email)
			if tt.ok {
				if err != nil {
					t.Fatalf("CheckPassword(%q) = %v, want accepted", tt.password, err)
				}
				return
			}
			wantInvalid(t, err, "password")
		})
	}
}

// Creating users.

func TestCreateUserEnforcesRoleTenantAndInputRules(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	gone := newCustomer(t, db, "gone")
	if err := db.CancelCustomer(t.Context(), modeltest.Staff, gone.ID); err != nil {
		t.Fatalf("cancel customer: %v", err)
	}
	acmeAdmin := newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, "").Actor(testIP)

	tests := []struct {
		name  string
		actor store.Actor
		in    accounts.UserInput
		field string
	}{
		{"a staff role with a customer is refused", modeltest.Staff,
			accounts.UserInput{Email: "a@x.test", Role: accounts.RolePrivacyOfficer, CustomerID: acme.ID}, "customer"},
		{"a customer role without a customer is refused", modeltest.Staff,
			accounts.UserInput{Email: "b@x.test", Role: accounts.RoleCustomerAgent}, "customer"},
		{"a customer admin cannot grant a staff role", acmeAdmin,
			accounts.UserInput{Email: "c@x.test", Role: accounts.RoleStaffAdmin}, "role"},
		{"an unknown role is refused", modeltest.Staff,
			accounts.UserInput{Email: "d@x.test", Role: "superuser"}, "role"},
		{"a malformed email is refused", modeltest.Staff,
			accounts.UserInput{Email: "not an email", Role: accounts.RoleAuditor}, "email"},
		{"a weak password is refused", modeltest.Staff,
			accounts.UserInput{Email: "e@x.test", Role: accounts.RoleAuditor, Password: "passwordpassword"}, "password"},
		{"a customer that does not exist is refused", modeltest.Staff,
			accounts.UserInput{Email: "f@x.test", Role: accounts.RoleCustomerAgent, CustomerID: uuid.NewString()}, "customer"},
		{"a cancelled customer gets no new users", modeltest.Staff,
			accounts.UserInput{Email: "g@x.test", Role: accounts.RoleCustomerAgent, CustomerID: gone.ID}, "customer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := db.CreateUser(t.Context(), tt.actor, tt.in)
			wantInvalid(t, err, tt.field)
			if u != nil {
				t.Errorf("CreateUser returned a user along with the error")
			}
		})
	}
	users, err := db.Users(t.Context(), modeltest.Staff)
	if err != nil {
		t.Fatalf("list users: %v", err)
	}
	if len(users) != 1 {
		t.Errorf("refused CreateUser calls left %d users, want only the fixture admin", len(users))
	}
}

func TestCreateUserRefusesAnEmailAlreadyTakenWhateverItsCase(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	newUser(t, db, "ann@example.com", accounts.RoleAuditor, "", "")

	_, err := db.CreateUser(t.Context(), modeltest.Staff, accounts.UserInput{Email: "ANN@Example.com", Role: accounts.RoleAuditor})

	c, ok := errs.AsConflict(err)
	if !ok || c.Field != "email" {
		t.Fatalf("CreateUser with a taken email = %v, want a ConflictError on email", err)
	}
}

func TestCreateUserAuditsTheUserAndTheRoleGrant(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")

	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, "")

	created := onlyAuditEvent(t, db, "user.create")
	granted := onlyAuditEvent(t, db, "role.grant")
	for _, e := range []store.AuditEvent{created, granted} {
		if e.ObjectID != u.ID || e.CustomerID != acme.ID {
			t.Errorf("%s event on object %q tenant %q, want user %s in %s", e.Action, e.ObjectID, e.CustomerID, u.ID, acme.ID)
		}
	}
	if d := detailsOf(t, granted); d["role"] != "customer_agent" || d["domain"] != acme.ID {
		t.Errorf("role.grant details = %v, want role customer_agent in domain %s", d, acme.ID)
	}
}

func TestCustomerAdminCreatesUsersOnlyInItsOwnTenant(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	other := newCustomer(t, db, "other")
	admin := newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, "")

	u, err := db.CreateUser(t.Context(), admin.Actor(testIP),
		accounts.UserInput{Email: "new@acme.test", Role: accounts.RoleCustomerAgent, CustomerID: other.ID})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}

	if u.Tenant() != acme.ID || u.Roles[0].Domain != acme.ID {
		t.Errorf("user created by acme's admin is in tenant %q (role domain %q), want %s", u.Tenant(), u.Roles[0].Domain, acme.ID)
	}
}

// Roles.

func TestSetUserRoleAuditsTheRoleBeforeAndAfter(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, "")

	if err := db.SetUserRole(t.Context(), modeltest.Staff, u.ID, accounts.RoleCustomerAdmin); err != nil {
		t.Fatalf("SetUserRole: %v", err)
	}

	if got := loadUser(t, db, u.ID); got.Role() != accounts.RoleCustomerAdmin || len(got.Roles) != 1 {
		t.Errorf("after SetUserRole the user has roles %+v, want only customer_admin", got.Roles)
	}
	e := onlyAuditEvent(t, db, "role.change")
	d := detailsOf(t, e)
	if e.ObjectID != u.ID || d["before"] != "customer_agent" || d["after"] != "customer_admin" {
		t.Errorf("role.change event on %q with details %v, want %s from customer_agent to customer_admin", e.ObjectID, d, u.ID)
	}
}

func TestSetUserRoleKeepsUsersOnTheirSideOfTheTenantLine(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	customerUser := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, "")
	staffUser := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", "")

	tests := []struct {
		name string
		user *accounts.User
		role accounts.Role
	}{
		{"a customer user cannot get a staff role", customerUser, accounts.RoleStaffAdmin},
		{"a staff user cannot get a customer role", staffUser, accounts.RoleCustomerAdmin},
		{"an unknown role is refused", staffUser, "root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.SetUserRole(t.Context(), modeltest.Staff, tt.user.ID, tt.role)
			wantInvalid(t, err, "role")
			if got := loadUser(t, db, tt.user.ID).Role(); got != tt.user.Role() {
				t.Errorf("role after the refused change = %s, want %s", got, tt.user.Role())
			}
		})
	}
}

func TestSetUserRoleRefusesChangingOwnRole(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	admin := newUser(t, db, "admin@sendara.test", accounts.RoleStaffAdmin, "", "")

	err := db.SetUserRole(t.Context(), admin.Actor(testIP), admin.ID, accounts.RoleAuditor)

	wantInvalid(t, err, "role")
	if got := loadUser(t, db, admin.ID).Role(); got != accounts.RoleStaffAdmin {
		t.Errorf("role after the refused change = %s, want staff_admin", got)
	}
}

// Disabling.

func TestSetUserDisabledEndsTheUsersSessions(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)
	res, err := db.Login(t.Context(), u.Email, goodPassword, testIP, "test", testPolicy)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}

	if err := db.SetUserDisabled(t.Context(), modeltest.Staff, u.ID, true); err != nil {
		t.Fatalf("SetUserDisabled: %v", err)
	}

	if _, _, err := db.LoadSession(t.Context(), res.Token, testPolicy); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("LoadSession after disabling = %v, want ErrNoSession", err)
	}
	// Ended, not merely suspended: re-enabling the user does not revive it.
	if err := db.SetUserDisabled(t.Context(), modeltest.Staff, u.ID, false); err != nil {
		t.Fatalf("re-enable: %v", err)
	}
	if _, _, err := db.LoadSession(t.Context(), res.Token, testPolicy); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("LoadSession after disabling and re-enabling = %v, want ErrNoSession", err)
	}
	if e := onlyAuditEvent(t, db, "user.disable"); e.ObjectID != u.ID {
		t.Errorf("user.disable event on %q, want %s", e.ObjectID, u.ID)
	}
}

func TestDisabledUserCannotLogIn(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)
	if err := db.SetUserDisabled(t.Context(), modeltest.Staff, u.ID, true); err != nil {
		t.Fatalf("SetUserDisabled: %v", err)
	}

	_, err := db.Login(t.Context(), u.Email, goodPassword, testIP, "test", testPolicy)

	if !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatalf("Login of a disabled user = %v, want ErrBadCredentials", err)
	}
	if d := detailsOf(t, onlyAuditEvent(t, db, "user.login_failed")); d["reason"] != "disabled" {
		t.Errorf("user.login_failed reason = %v, want disabled", d["reason"])
	}
}

func TestSetUserDisabledRefusesDisablingOneself(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	admin := newUser(t, db, "admin@sendara.test", accounts.RoleStaffAdmin, "", "")

	err := db.SetUserDisabled(t.Context(), admin.Actor(testIP), admin.ID, true)

	wantInvalid(t, err, "user")
	if loadUser(t, db, admin.ID).Disabled() {
		t.Errorf("the admin disabled itself")
	}
}

// Tenancy.

func TestCustomerActorCannotSeeOrChangeAnotherTenantsUser(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	other := newCustomer(t, db, "other")
	actor := newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, "").Actor(testIP)
	victim := newUser(t, db, "agent@other.test", accounts.RoleCustomerAgent, other.ID, "")

	tests := []struct {
		name string
		call func() error
	}{
		{"User", func() error { _, err := db.User(t.Context(), actor, victim.ID); return err }},
		{"SetUserRole", func() error { return db.SetUserRole(t.Context(), actor, victim.ID, accounts.RoleCustomerAdmin) }},
		{"SetUserDisabled", func() error { return db.SetUserDisabled(t.Context(), actor, victim.ID, true) }},
		{"CreateInvite", func() error {
			_, err := db.CreateInvite(t.Context(), actor, victim.ID, accountsLink("/invite/"))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s on another tenant's user = %v, want ErrNotFound", tt.name, err)
			}
		})
	}
	after := loadUser(t, db, victim.ID)
	if after.Role() != accounts.RoleCustomerAgent || after.Disabled() {
		t.Errorf("the other tenant's user changed: role %s, disabled %v", after.Role(), after.Disabled())
	}
}

func TestUsersListsOnlyTheCustomerActorsOwnTenant(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	other := newCustomer(t, db, "other")
	admin := newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, "")
	newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, "")
	newUser(t, db, "agent@other.test", accounts.RoleCustomerAgent, other.ID, "")
	newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", "")

	users, err := db.Users(t.Context(), admin.Actor(testIP))
	if err != nil {
		t.Fatalf("Users: %v", err)
	}

	var emails []string
	for _, u := range users {
		emails = append(emails, u.Email)
	}
	if want := []string{"admin@acme.test", "agent@acme.test"}; !slices.Equal(emails, want) {
		t.Errorf("Users for acme's admin = %v, want %v", emails, want)
	}
}

// Invitations.

func TestAcceptedInviteSetsThePasswordSoLoginWorks(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, "")
	token, err := accountsCreateInvite(t, db, modeltest.Staff, u.ID)
	if err != nil {
		t.Fatalf("CreateInvite: %v", err)
	}

	invited, err := db.InviteUser(t.Context(), token)
	if err != nil || invited.ID != u.ID {
		t.Fatalf("InviteUser = %v, %v; want user %s", invited, err, u.ID)
	}
	if err := db.AcceptInvite(t.Context(), token, goodPassword, testIP); err != nil {
		t.Fatalf("AcceptInvite: %v", err)
	}

	res, err := db.Login(t.Context(), u.Email, goodPassword, testIP, "test", testPolicy)
	if err != nil || res.User.ID != u.ID {
		t.Fatalf("Login with the chosen password = %v, want a session for %s", err, u.ID)
	}
	if e := onlyAuditEvent(t, db, "user.invite_accept"); e.ObjectID != u.ID || e.ActorID != u.ID {
		t.Errorf("user.invite_accept event on %q by %q, want both %s", e.ObjectID, e.ActorID, u.ID)
	}
}

func TestInviteTokenWorksOnlyOnce(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, "")
	token, err := accountsCreateInvite(t, db, modeltest.Staff, u.ID)
	if err != nil {
		t.Fatalf("CreateInvite: %v", err)
	}
	if err := db.AcceptInvite(t.Context(), token, goodPassword, testIP); err != nil {
		t.Fatalf("first AcceptInvite: %v", err)
	}

	if _, err := db.InviteUser(t.Context(), token); !errors.Is(err, accounts.ErrInviteInvalid) {
		t.Errorf("InviteUser with a spent token = %v, want ErrInviteInvalid", err)
	}
	if err := db.AcceptInvite(t.Context(), token, "another fine passphrase 77", testIP); !errors.Is(err, accounts.ErrInviteInvalid) {
		t.Errorf("second AcceptInvite = %v, want ErrInviteInvalid", err)
	}
}

func TestNewInviteInvalidatesTheEarlierOne(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, "")
	first, err := accountsCreateInvite(t, db, modeltest.Staff, u.ID)
	if err != nil {
		t.Fatalf("first CreateInvite: %v", err)
	}

	second, err := accountsCreateInvite(t, db, modeltest.Staff, u.ID)
	if err != nil {
		t.Fatalf("second CreateInvite: %v", err)
	}

	if first == second {
		t.Fatalf("two invitations share the token %q", first)
	}
	if _, err := db.InviteUser(t.Context(), first); !errors.Is(err, accounts.ErrInviteInvalid) {
		t.Errorf("InviteUser with the replaced token = %v, want ErrInviteInvalid", err)
	}
	if got, err := db.InviteUser(t.Context(), second); err != nil || got.ID != u.ID {
		t.Errorf("InviteUser with the new token = %v, %v; want user %s", got, err, u.ID)
	}
}

func TestAcceptInviteRefusesAWeakPasswordAndKeepsTheLink(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, "")
	token, err := accountsCreateInvite(t, db, modeltest.Staff, u.ID)
	if err != nil {
		t.Fatalf("CreateInvite: %v", err)
	}

	err = db.AcceptInvite(t.Context(), token, "123456789012", testIP)

	wantInvalid(t, err, "password")
	if _, err := db.InviteUser(t.Context(), token); err != nil {
		t.Errorf("InviteUser after a refused password = %v, want the link still valid", err)
	}
}

func TestUnknownInviteTokenIsInvalid(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)

	if _, err := db.InviteUser(t.Context(), "no-such-token"); !errors.Is(err, accounts.ErrInviteInvalid) {
		t.Errorf("InviteUser with an unknown token = %v, want ErrInviteInvalid", err)
	}
}
