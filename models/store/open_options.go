package store

import calendar "github.com/sendara/console/models/calendar"

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
func WithBusiness(b calendar.Business) Option {
	return func(db *DB) {
		if b.Loc != nil {
			db.business.Loc = b.Loc
		}
		if b.Calendar != nil {
			db.business.Calendar = b.Calendar
		}
		if b.Policy != (calendar.DeadlinePolicy{}) {
			db.business.Policy = b.Policy
		}
	}
}

// Region is the default phone region the store was opened with.
func (db *DB) Region() string { return db.region }

// Business is the business time zone, calendar and deadline policy the
// store was opened with.
func (db *DB) Business() calendar.Business { return db.business }
