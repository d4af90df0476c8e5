package rbac

// SetMaxDecisions lowers the bound on remembered answers, so a test can
// reach it with a few questions.
func (a *Authorizer) SetMaxDecisions(n int64) { a.maxDecisions = n }

// RememberedDecisions is how many answers are remembered now.
func (a *Authorizer) RememberedDecisions() int {
	n := 0
	a.decided.Range(func(any, any) bool { n++; return true })
	return n
}

// EnforcerHasPolicy asks Casbin itself whether role is granted perm: the
// answer RoleAllowed must give.
func EnforcerHasPolicy(a *Authorizer, role string, perm Permission) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	ok, err := a.e.HasPolicy(role, perm.Object, perm.Action)
	return err == nil && ok
}
