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
