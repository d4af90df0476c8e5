package store

// AuditNames are the names shown beside the ids of a page of audit
// entries: users' names (by user id) and customers' names (by customer id).
type AuditNames struct {
	Users     map[string]string
	Customers map[string]string
}
