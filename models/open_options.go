package models

// The deployment's reckoning — the default phone region and the business
// time zone, holiday calendar and deadline policy — is settled once, when
// the store opens (Open's options), and read from the DB after that: no
// package global, nothing that changes while the console runs. Code that
// has no configuration of its own (the dashboard's "overdue", demo data,
// a server or job runner given none) asks the DB instead of a default.

// Option sets one of the store's settings at Open.
type Option func(*DB)

// WithRegion reads phone numbers written without a country code in region
// (a two-letter code such as US or GB; default US).
func WithRegion(region string) Option {
	return func(db *DB) {
		if region != "" {
			db.region = region
		}
	}
}

// WithBusiness sets the business time zone, holiday calendar and deadline
// policy (default DefaultBusiness: America/Los_Angeles, the US federal
// calendar). A zero field keeps the default's.
func WithBusiness(b Business) Option {
	return func(db *DB) {
		if b.Loc != nil {
			db.business.Loc = b.Loc
		}
		if b.Calendar != nil {
			db.business.Calendar = b.Calendar
		}
		if b.Policy != (DeadlinePolicy{}) {
			db.business.Policy = b.Policy
		}
	}
}

// Region is the default phone region the store was opened with.
func (db *DB) Region() string { return db.region }

// Business is the business time zone, calendar and deadline policy the
// store was opened with.
func (db *DB) Business() Business { return db.business }
