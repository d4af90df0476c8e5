package rbac_test

import (
	accounts "github.com/sendara/console/models/accounts"
	customers "github.com/sendara/console/models/customers"

	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/rbac"
)

const (
	sa = 1 << iota // staff_admin
	po             // privacy_officer
	au             // auditor
	ca             // customer_admin
	cg             // customer_agent

	allRoles = sa | po | au | ca | cg
)

var roleBits = map[accounts.Role]int{
	accounts.RoleStaffAdmin: sa, accounts.RolePrivacyOfficer: po, accounts.RoleAuditor: au,
	accounts.RoleCustomerAdmin: ca, accounts.RoleCustomerAgent: cg,
}

// expected is the reviewed expectation, written from DESIGN.md section 1
// and not read from policy.csv: which roles hold each permission in their
// own domain. A change to the matrix must change this table too.
var expected = []struct {
	perm  string
	roles int
}{
	{"dashboard:read", allRoles},
	// Everyone manages their own password and second factor.
	{"account:write", allRoles},
	{"customers:read", sa | po | au},
	{"customers:write", sa},
	{"users:read", sa | au | ca},
	{"users:write", sa | ca},
	{"apikeys:read", sa | ca},
	{"apikeys:write", sa | ca},
	{"webhooks:read", ca},
	{"webhooks:write", ca},
	{"audit:read", sa | po | au | ca},
	{"audit:verify", sa | au},
	// The audit log is evidence, not raw contact data: a customer admin
	// exports its own tenant's events.
	{"audit:export", sa | au | ca},
	{"contacts:read", sa | po | ca | cg},
	// Agents record opt-outs and consents; auditors never write.
	{"contacts:write", sa | ca | cg},
	{"contacts:import", sa | ca},
	// No exports for agents or auditors (raw personal data).
	{"contacts:export", sa | po | ca},
	{"replies:read", sa | ca | cg},
	{"replies:write", sa | ca | cg},
	{"help_text:write", ca},
	{"requests:read", sa | po | au},
	{"requests:write", sa | po},
	{"requests:execute", sa | po},
	{"people:search", sa | po},
	// Answering a routed request is the controller's decision, so even a
	// staff admin does not answer for the customer.
	{"routed_requests:read", ca | cg},
	{"routed_requests:answer", ca},
	{"reports:read", sa | po | au},
	// A request's case file (zip and print view) is evidence: staff and auditors (DESIGN §1).
	{"case_files:read", sa | po | au},
	// Lifecycle registers (issue 13): the sent-after-opt-out report is a
	// customer admin's own exposure; the breach register is kept by staff
	// and read by the customers it affects, who report their own breaches.
	{"communications:read", sa | po | au | ca},
	{"incidents:read", allRoles},
	{"incidents:write", sa | po},
	{"incidents:settings", sa},
	{"incidents:report", ca},
	{"subprocessors:read", allRoles},
	{"subprocessors:write", sa | po},
	{"subprocessors:settings", sa},
	{"subprocessors:object", ca},
	{"processing_records:read", sa | po | au | ca},
	{"legal_disclosures:read", sa | po | au},
	{"legal_disclosures:write", sa | po},
	{"account_bundles:export", sa | po},
	// Reversing a person's own opt-out: an agent or key asks, an admin
	// (the customer's, or Sendara's staff) decides; auditors read.
	{"consent_reversals:read", sa | po | au | ca},
	{"consent_reversals:decide", sa | po | ca},
	{"outbox:read", sa | po | au},
	// Retention settings are the staff admin's (DESIGN §1); holds keep
	// evidence, which privacy officers ask for; auditors review.
	{"retention:read", sa | po | au},
	{"retention:write", sa},
	{"retention_holds:write", sa | po},
	// Working the request queue: each user's own saved views; exporting
	// the list is raw personal data; notifications go to those who act.
	{"request_views:write", sa | po | au},
	{"requests:export", sa | po},
	{"notifications:read", sa | po},
	{"notifications:write", sa | po},
	// Anything not granted is denied.
	{"settings:delete", 0},
	{"contacts:purge", 0},
}

func perm(s string) rbac.Permission {
	obj, act, _ := strings.Cut(s, ":")
	return rbac.Permission{Object: obj, Action: act}
}

func newAuthorizer(t *testing.T, db *models.DB) *rbac.Authorizer {
	t.Helper()
	a, err := rbac.New(t.Context(), db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("rbac.New: %v", err)
	}
	return a
}

func newCustomer(t *testing.T, db *models.DB, slug string) *customers.Customer {
	t.Helper()
	c, err := db.CreateCustomer(t.Context(), modeltest.Staff, customers.CustomerInput{Slug: slug, Name: slug})
	if err != nil {
		t.Fatalf("create customer %s: %v", slug, err)
	}
	return c
}

func newUser(t *testing.T, db *models.DB, role accounts.Role, customerID string) *accounts.User {
	t.Helper()
	u, err := db.CreateUser(t.Context(), modeltest.Staff, accounts.UserInput{
		Email: strings.ReplaceAll(string(role), "_", "-") + "@rbac.test", Role: role, CustomerID: customerID})
	if err != nil {
		t.Fatalf("create %s: %v", role, err)
	}
	return u
}

// newAdminAndAgent is a customer with an admin and an agent.
func newAdminAndAgent(t *testing.T, db *models.DB) (c *customers.Customer, admin, agent *accounts.User) {
	t.Helper()
	c = newCustomer(t, db, "acme")
	return c, newUser(t, db, accounts.RoleCustomerAdmin, c.ID), newUser(t, db, accounts.RoleCustomerAgent, c.ID)
}

func TestEachRoleHoldsExactlyTheReviewedPermissions(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	a := newCustomer(t, db, "acme")
	b := newCustomer(t, db, "other")
	users := map[accounts.Role]*accounts.User{}
	for _, role := range accounts.Roles {
		customer := ""
		if !role.Staff() {
			customer = a.ID
		}
		users[role] = newUser(t, db, role, customer)
	}
	authz := newAuthorizer(t, db)

	for _, role := range accounts.Roles {
		t.Run(string(role), func(t *testing.T) {
			u := users[role]
			own := []string{a.ID}
			denied := []string{b.ID, rbac.StaffDomain, accounts.StaffDomain}
			if role.Staff() {
				// Staff act in their own domain and in every customer's.
				own, denied = []string{rbac.StaffDomain, a.ID, b.ID}, nil
			}
			for _, want := range expected {
				for _, dom := range own {
					if got := authz.Allowed(u.ID, dom, perm(want.perm)); got != (want.roles&roleBits[role] != 0) {
						t.Errorf("Allowed(%s, domain %s, %s) = %v, want %v", role, dom, want.perm, got, !got)
					}
				}
				for _, dom := range denied {
					if authz.Allowed(u.ID, dom, perm(want.perm)) {
						t.Errorf("Allowed(%s of acme, domain %s, %s) = true, want every other domain denied", role, dom, want.perm)
					}
				}
			}
		})
	}
}

func TestAnUnknownUserIsDeniedEverything(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	a := newCustomer(t, db, "acme")
	authz := newAuthorizer(t, db)

	for _, subject := range []string{"", "nobody", uuid.NewString()} {
		for _, want := range expected {
			for _, dom := range []string{rbac.StaffDomain, a.ID} {
				if authz.Allowed(subject, dom, perm(want.perm)) {
					t.Errorf("unassigned subject %q is allowed %s in %s", subject, want.perm, dom)
				}
			}
		}
	}
}

func TestEveryRuleOfTheMatrixNamesAKnownRole(t *testing.T) {
	t.Parallel()
	rules, err := rbac.Matrix()
	if err != nil {
		t.Fatalf("Matrix: %v", err)
	}

	granted := map[accounts.Role]int{}
	for i, r := range rules {
		if len(r) != 3 || r[1] == "" || r[2] == "" {
			t.Errorf("rule %d = %q, want role, object, action", i+1, r)
			continue
		}
		role, err := accounts.ParseRole(r[0])
		if err != nil {
			t.Errorf("rule %d names unknown role %q", i+1, r[0])
		}
		granted[role]++
	}
	for _, role := range accounts.Roles {
		if granted[role] == 0 {
			t.Errorf("role %s has no rule in the matrix", role)
		}
	}
}

func TestEveryRuleOfTheMatrixIsInTheReviewedTable(t *testing.T) {
	t.Parallel()
	rules, err := rbac.Matrix()
	if err != nil {
		t.Fatalf("Matrix: %v", err)
	}
	reviewed := map[string]int{}
	for _, e := range expected {
		reviewed[e.perm] = e.roles
	}

	for _, r := range rules {
		p := r[1] + ":" + r[2]
		if reviewed[p]&roleBits[accounts.Role(r[0])] == 0 {
			t.Errorf("the matrix grants %s to %s, which the reviewed table does not", p, r[0])
		}
	}
}

func TestReloadPicksUpARoleChange(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	a := newCustomer(t, db, "acme")
	u := newUser(t, db, accounts.RoleCustomerAdmin, a.ID)
	authz := newAuthorizer(t, db)
	manageUsers := perm("users:write")
	if !authz.Allowed(u.ID, a.ID, manageUsers) {
		t.Fatalf("a customer admin may not manage users before the change")
	}

	if err := db.SetUserRole(t.Context(), modeltest.Staff, u.ID, accounts.RoleCustomerAgent); err != nil {
		t.Fatalf("SetUserRole: %v", err)
	}
	if err := authz.Reload(t.Context()); err != nil {
		t.Fatalf("Reload: %v", err)
	}

	if authz.Allowed(u.ID, a.ID, manageUsers) {
		t.Errorf("after demotion to agent and Reload, the user still manages users")
	}
	if !authz.Allowed(u.ID, a.ID, perm("contacts:read")) {
		t.Errorf("after demotion to agent and Reload, the user lost the agent's permissions")
	}
}

func TestADisabledUserIsDeniedAfterReload(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	u := newUser(t, db, accounts.RoleStaffAdmin, "")
	authz := newAuthorizer(t, db)
	if !authz.Allowed(u.ID, rbac.StaffDomain, perm("dashboard:read")) {
		t.Fatalf("the staff admin is denied before being disabled")
	}

	if err := db.SetUserDisabled(t.Context(), modeltest.Staff, u.ID, true); err != nil {
		t.Fatalf("SetUserDisabled: %v", err)
	}
	if err := authz.Reload(t.Context()); err != nil {
		t.Fatalf("Reload: %v", err)
	}

	for _, e := range expected {
		if authz.Allowed(u.ID, rbac.StaffDomain, perm(e.perm)) {
			t.Errorf("the disabled user is still allowed %s", e.perm)
		}
	}
}

func TestRoleAllowedConsultsTheMatrixAlone(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	authz := newAuthorizer(t, db)
	tests := []struct {
		role accounts.Role
		perm string
		want bool
	}{
		{accounts.RoleCustomerAdmin, "requests:write", false},
		{accounts.RoleCustomerAdmin, "contacts:export", true},
		{accounts.RolePrivacyOfficer, "requests:write", true},
		{accounts.RolePrivacyOfficer, "apikeys:write", false},
	}
	for _, tt := range tests {
		if got := authz.RoleAllowed(tt.role, perm(tt.perm)); got != tt.want {
			t.Errorf("RoleAllowed(%s, %s) = %v, want %v", tt.role, tt.perm, got, tt.want)
		}
	}
}

// RoleAllowed answers as the enforcer's own HasPolicy does, for every role
// and every object and action the matrix names.
func TestRoleAllowedAgreesWithTheEnforcer(t *testing.T) {
	t.Parallel()
	authz := newAuthorizer(t, modeltest.Open(t))
	rules, err := rbac.Matrix()
	if err != nil {
		t.Fatal(err)
	}
	allowed := 0
	for _, role := range accounts.Roles {
		for _, r := range rules {
			p := rbac.Permission{Object: r[1], Action: r[2]}
			want := rbac.EnforcerHasPolicy(authz, string(role), p)
			if got := authz.RoleAllowed(role, p); got != want {
				t.Errorf("RoleAllowed(%s, %s) = %v, the enforcer says %v", role, p, got, want)
			}
			if want {
				allowed++
			}
		}
	}
	if allowed == 0 || allowed == len(accounts.Roles)*len(rules) {
		t.Fatalf("%d of %d allowed: the walk should see both answers", allowed, len(accounts.Roles)*len(rules))
	}
}

func TestDomainFollowsTheActor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		actor store.Actor
		want  string
	}{
		{"staff act in the staff domain", store.StaffUser("u1", "", ""), rbac.StaffDomain},
		{"a system actor acts in the staff domain", modeltest.Staff, rbac.StaffDomain},
		{"a customer user acts in its customer's domain", store.CustomerUser("u2", "", "c-1", ""), "c-1"},
		{"a customer key acts in its customer's domain", store.CustomerKey("k1", "", "c-2", ""), "c-2"},
	}
	for _, tt := range tests {
		if got := rbac.Domain(tt.actor); got != tt.want {
			t.Errorf("%s: Domain = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSyncAppliesARoleChangeMadeElsewhere(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	a := newCustomer(t, db, "acme")
	u := newUser(t, db, accounts.RoleCustomerAdmin, a.ID)
	authz := newAuthorizer(t, db)
	// Asked before the change: the answer is remembered (Allowed caches
	// them) and must not outlive the change.
	if !authz.Allowed(u.ID, a.ID, perm("users:write")) {
		t.Fatalf("a customer admin may not manage users before the change")
	}
	// Another instance or the command line demotes the user.
	if err := db.SetUserRole(t.Context(), modeltest.Staff, u.ID, accounts.RoleCustomerAgent); err != nil {
		t.Fatalf("SetUserRole: %v", err)
	}
	fresh, err := db.User(t.Context(), modeltest.Staff, u.ID)
	if err != nil {
		t.Fatalf("load user: %v", err)
	}

	if err := authz.Sync(u.ID, fresh.Roles); err != nil {
		t.Fatalf("Sync: %v", err)
	}

	if authz.Allowed(u.ID, a.ID, perm("users:write")) || !authz.Allowed(u.ID, a.ID, perm("contacts:read")) {
		t.Errorf("after Sync the user does not hold exactly the agent's permissions")
	}
}

func TestSyncWithNoAssignmentsRevokesOnlyThatUser(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	a, admin, agent := newAdminAndAgent(t, db)
	authz := newAuthorizer(t, db)
	for _, e := range expected {
		authz.Allowed(admin.ID, a.ID, perm(e.perm)) // remembered answers, to be forgotten
	}

	if err := authz.Sync(admin.ID, nil); err != nil {
		t.Fatalf("Sync: %v", err)
	}

	for _, e := range expected {
		if authz.Allowed(admin.ID, a.ID, perm(e.perm)) {
			t.Errorf("after Sync with no assignments the user is still allowed %s", e.perm)
		}
	}
	if !authz.Allowed(agent.ID, a.ID, perm("contacts:read")) {
		t.Errorf("Sync of one user revoked another user's role")
	}
}

// Past its bound the authorizer starts its remembered answers over: it
// never holds more than the bound, and every answer, remembered or asked
// again, is the one a fresh authorizer gives.
func TestRememberedAnswersStayWithinTheBoundAndRight(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	a, admin, agent := newAdminAndAgent(t, db)
	type question struct {
		user string
		perm rbac.Permission
	}
	var questions []question
	for _, u := range []string{admin.ID, agent.ID, uuid.NewString()} {
		for _, p := range []string{"users:write", "contacts:read", "consent:write", "customers:read"} {
			questions = append(questions, question{u, perm(p)})
		}
	}
	fresh := newAuthorizer(t, db)
	want := map[question]bool{}
	allowed := 0
	for _, q := range questions {
		want[q] = fresh.Allowed(q.user, a.ID, q.perm)
		if want[q] {
			allowed++
		}
	}
	if allowed == 0 || allowed == len(questions) {
		t.Fatalf("%d of %d questions allowed: the test needs both answers", allowed, len(questions))
	}

	const bound = 5
	authz := newAuthorizer(t, db)
	authz.SetMaxDecisions(bound)
	for round := range 3 {
		for _, q := range questions {
			if got := authz.Allowed(q.user, a.ID, q.perm); got != want[q] {
				t.Errorf("round %d: %s may %s: %v, a fresh authorizer says %v", round, q.user, q.perm, got, want[q])
			}
			if n := authz.RememberedDecisions(); n > bound {
				t.Fatalf("round %d: %d answers remembered, over the bound of %d", round, n, bound)
			}
		}
	}
}
