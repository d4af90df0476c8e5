package accounts

import (
	"slices"

	errs "github.com/sendara/console/models/errs"
	store "github.com/sendara/console/models/store"
)

// Role is one of the five roles of the permission matrix (rbac/policy.csv).
type Role string

const (
	RoleStaffAdmin     Role = "staff_admin"
	RolePrivacyOfficer Role = "privacy_officer"
	RoleAuditor        Role = "auditor"
	RoleCustomerAdmin  Role = "customer_admin"
	RoleCustomerAgent  Role = "customer_agent"
)

// Roles lists every role, staff roles first.
var Roles = []Role{RoleStaffAdmin, RolePrivacyOfficer, RoleAuditor, RoleCustomerAdmin, RoleCustomerAgent}

// StaffDomain is the Casbin domain of staff role assignments: it matches
// every tenant.
const StaffDomain = "*"

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(Roles, r) {
		return "", errs.Invalid("role", "must be one of staff_admin, privacy_officer, auditor, customer_admin, customer_agent")
	}
	return r, nil
}

// Staff reports whether the role belongs to Sendara staff (all tenants).
func (r Role) Staff() bool {
	return r == RoleStaffAdmin || r == RolePrivacyOfficer || r == RoleAuditor
}

// Label is the role's name for people.
func (r Role) Label() string {
	switch r {
	case RoleStaffAdmin:
		return "Staff admin"
	case RolePrivacyOfficer:
		return "Privacy officer"
	case RoleAuditor:
		return "Auditor"
	case RoleCustomerAdmin:
		return "Customer admin"
	case RoleCustomerAgent:
		return "Customer agent"
	}
	return string(r)
}

// RequiresTOTP reports whether the role must enrol a second factor: staff
// roles reach every tenant's data, so they always do.
func (r Role) RequiresTOTP() bool { return r.Staff() }

// GrantableBy lists the roles an actor may hand out: staff admins any role,
// customer admins only customer roles within their own tenant.
func GrantableBy(actor store.Actor) []Role {
	if actor.Staff() {
		return Roles
	}
	return []Role{RoleCustomerAdmin, RoleCustomerAgent}
}
