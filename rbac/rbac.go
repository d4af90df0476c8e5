// Package rbac decides who may do what: the Casbin model with domains
// (model.conf), the reviewed permission matrix (policy.csv) and role
// assignments read from the database. It denies anything not granted.
package rbac

import (
	"context"

	accounts "github.com/sendara/console/models/accounts"
	store "github.com/sendara/console/models/store"

	_ "embed"
	"encoding/csv"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/util"
	"github.com/sendara/console/models"
)

//go:embed model.conf
var modelText string

//go:embed policy.csv
var policyText string

// StaffDomain is the domain staff act in; staff assignments ("*") match it
// as they match every customer's domain.
const StaffDomain = "sendara"

// Permission is what a route needs: an object of the matrix and an action.
type Permission struct {
	Object string
	Action string
}

func (p Permission) String() string { return p.Object + ":" + p.Action }

// Authorizer answers permission questions. It is safe for concurrent use.
type Authorizer struct {
	mu  sync.RWMutex
	e   *casbin.Enforcer
	db  *models.DB
	log *slog.Logger

	// decided remembers Enforce's answers (decisionKey → bool) until the
	// next change of the role assignments. Every page asks a dozen
	// questions for its navigation alone, and Casbin evaluates its matcher
	// over the whole matrix for each: it was a fifth of the server's CPU
	// in the handlers tests. Answers are stored under mu's read lock and
	// cleared under its write lock, by the same change that makes them
	// stale, so no answer outlives the assignments it came from.
	decided      sync.Map
	decisions    atomic.Int64 // entries in decided, to bound its size
	maxDecisions int64        // the bound: maxDecisions, or a test's

	// matrix holds the permission matrix's rules, which New loads and
	// nothing changes: RoleAllowed answers from it without a lock, where
	// the enforcer's HasPolicy cost every API request a lock and a scan.
	matrix map[roleRule]bool
}

// roleRule is one rule of the permission matrix: role may do action on
// object.
type roleRule struct{ role, object, action string }

// decisionKey is one question asked of Enforce.
type decisionKey struct {
	sub, dom string
	perm     Permission
}

// maxDecisions bounds the answers remembered: a few thousand users each
// asking of a few domains fit many times; past it the cache starts over.
const maxDecisions = 100_000

// forgetDecisions clears the remembered answers. The caller holds mu: its
// write lock when it has just changed the assignments, its read lock when
// the cache is full (Allowed).
func (a *Authorizer) forgetDecisions() {
	a.decided.Clear()
	a.decisions.Store(0)
}

// New builds the enforcer from the embedded model and matrix and loads the
// role assignments from db.
func New(ctx context.Context, db *models.DB, log *slog.Logger) (*Authorizer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("parse rbac model: %w", err)
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("create enforcer: %w", err)
	}
	e.AddNamedDomainMatchingFunc("g", "keyMatch", util.KeyMatch)
	rules, err := Matrix()
	if err != nil {
		return nil, err
	}
	if _, err := e.AddPolicies(rules); err != nil {
		return nil, fmt.Errorf("load permission matrix: %w", err)
	}
	a := &Authorizer{e: e, db: db, log: log, maxDecisions: maxDecisions, matrix: make(map[roleRule]bool, len(rules))}
	for _, r := range rules {
		a.matrix[roleRule{r[0], r[1], r[2]}] = true
	}
	if err := a.Reload(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// Matrix returns the reviewed permission matrix as [role, object, action] rules.
func Matrix() ([][]string, error) {
	r := csv.NewReader(strings.NewReader(policyText))
	r.Comment = '#'
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = 4
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read rbac/policy.csv: %w", err)
	}
	rules := make([][]string, 0, len(recs))
	for i, rec := range recs {
		if rec[0] != "p" {
			return nil, fmt.Errorf("rbac/policy.csv rule %d: only p rules belong here", i+1)
		}
		if _, err := accounts.ParseRole(rec[1]); err != nil {
			return nil, fmt.Errorf("rbac/policy.csv rule %d: unknown role %q", i+1, rec[1])
		}
		rules = append(rules, rec[1:])
	}
	return rules, nil
}

// Reload replaces the role assignments with those in the database. It runs
// at start and after every change of a user's role or status.
func (a *Authorizer) Reload(ctx context.Context) error {
	var rows []accounts.RoleAssignment
	err := a.db.Gorm.WithContext(ctx).
		Joins("JOIN users ON users.id = role_assignments.user_id").
		Where("users.disabled_at IS NULL").Find(&rows).Error
	if err != nil {
		return fmt.Errorf("load role assignments: %w", err)
	}
	groupings := make([][]string, len(rows))
	for i, r := range rows {
		groupings[i] = []string{subject(r.UserID), string(r.Role), r.Domain}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.forgetDecisions() // also after a change that failed half-way
	old, err := a.e.GetGroupingPolicy()
	if err != nil {
		return fmt.Errorf("read role assignments: %w", err)
	}
	if len(old) > 0 {
		if _, err := a.e.RemoveGroupingPolicies(old); err != nil {
			return fmt.Errorf("clear role assignments: %w", err)
		}
	}
	if len(groupings) > 0 {
		if _, err := a.e.AddGroupingPolicies(groupings); err != nil {
			return fmt.Errorf("load role assignments: %w", err)
		}
	}
	return nil
}

// subject names a user in Casbin. The prefix keeps a user id from ever
// matching a role name (Casbin treats g(x, x) as true).
func subject(userID string) string { return "user:" + userID }

// Domain is the Casbin domain an actor acts in: its customer, or the staff
// domain. It comes from the session or key, never from the request.
func Domain(actor store.Actor) string {
	if actor.Staff() {
		return StaffDomain
	}
	return actor.CustomerID
}

// Allowed reports whether userID, acting in domain, holds perm. An
// enforcement error is a denial (and is logged).
func (a *Authorizer) Allowed(userID, domain string, perm Permission) bool {
	key := decisionKey{sub: subject(userID), dom: domain, perm: perm}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if ok, found := a.decided.Load(key); found {
		return ok.(bool)
	}
	ok, err := a.e.Enforce(key.sub, domain, perm.Object, perm.Action)
	if err != nil {
		a.log.Error("authorization check failed; denying", "user", userID, "permission", perm.String(), "err", err)
		return false
	}
	if a.decisions.Add(1) > a.maxDecisions {
		// Under the read lock other readers may be storing too: a clear
		// here loses only answers, never makes one wrong (nor keeps more
		// than the bound, give or take those readers' answers).
		a.forgetDecisions()
		a.decisions.Add(1) // the answer stored next
	}
	a.decided.Store(key, ok)
	return ok
}

// RoleAllowed reports whether role grants perm, per the matrix alone
// (used for API keys, whose role follows from their kind).
func (a *Authorizer) RoleAllowed(role accounts.Role, perm Permission) bool {
	return a.matrix[roleRule{string(role), perm.Object, perm.Action}]
}

// Sync makes the enforcer hold exactly the given assignments for one user.
// The session layer loads a user's assignments from the database on every
// request and calls Sync, so a role granted or revoked by another process
// (the command line, another instance) applies at the user's next request.
func (a *Authorizer) Sync(userID string, assignments []accounts.RoleAssignment) error {
	want := make([][]string, len(assignments))
	for i, r := range assignments {
		want[i] = []string{subject(userID), string(r.Role), r.Domain}
	}
	a.mu.RLock()
	have, err := a.e.GetFilteredGroupingPolicy(0, subject(userID))
	a.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("read role assignments of %s: %w", userID, err)
	}
	if sameRules(have, want) {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.forgetDecisions() // also after a change that failed half-way
	if _, err := a.e.RemoveFilteredGroupingPolicy(0, subject(userID)); err != nil {
		return fmt.Errorf("clear role assignments of %s: %w", userID, err)
	}
	if len(want) > 0 {
		if _, err := a.e.AddGroupingPolicies(want); err != nil {
			return fmt.Errorf("set role assignments of %s: %w", userID, err)
		}
	}
	return nil
}

func sameRules(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]bool, len(a))
	for _, r := range a {
		seen[strings.Join(r, "\x00")] = true
	}
	for _, r := range b {
		if !seen[strings.Join(r, "\x00")] {
			return false
		}
	}
	return true
}
