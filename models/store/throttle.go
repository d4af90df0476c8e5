package store

import (
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ThrottleRule is how an authentication throttle answers failures: the
// first Free failures cost nothing, then each further one makes the next
// attempt wait Base, doubling up to Max. It slows guessing without letting
// anyone lock an account by guessing wrong on purpose: the owner waits
// seconds, not a quarter of an hour, and is mailed. At Ceiling consecutive
// failures (NIST SP 800-63B 5.2.2 allows at most 100) the key waits
// CeilingWait. Failures are forgotten after Forget without one, and on a
// success where the rule says so.
type ThrottleRule struct {
	Scope       string // "account", "address" or "second_factor": what the message names
	Free        int
	Base, Max   time.Duration
	Ceiling     int
	CeilingWait time.Duration
	Forget      time.Duration
}

// The throttles of sign-in. Per account, across every address and
// instance (the counts are rows in the database); per client address,
// with more free failures because offices share one; and per account for
// second-factor codes, so a new half-open session buys no more guesses.
var (
	AccountThrottle = ThrottleRule{Scope: "account", Free: 5, Base: 15 * time.Second, Max: 15 * time.Minute,
		Ceiling: 100, CeilingWait: 24 * time.Hour, Forget: 24 * time.Hour}
	AddressThrottle = ThrottleRule{Scope: "address", Free: 20, Base: 15 * time.Second, Max: 15 * time.Minute,
		Forget: 15 * time.Minute}
	SecondFactorThrottle = ThrottleRule{Scope: "second_factor", Free: 5, Base: 15 * time.Second, Max: 15 * time.Minute,
		Ceiling: 100, CeilingWait: 24 * time.Hour, Forget: 24 * time.Hour}
)

// Delay is how long the next attempt waits after the given number of
// consecutive failures.
func (r ThrottleRule) Delay(failures int) time.Duration {
	switch {
	case failures < r.Free:
		return 0
	case r.Ceiling > 0 && failures >= r.Ceiling:
		return r.CeilingWait
	}
	d := r.Base
	for i := r.Free; i < failures && d < r.Max; i++ {
		d *= 2
	}
	return min(d, r.Max)
}

// RateLimitError means an attempt came before the throttle's next allowed
// time; RetryAfter says how long to wait.
type RateLimitError struct {
	Scope      string // a ThrottleRule's Scope
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	wait := fmt.Sprintf("%d seconds", int(e.RetryAfter.Seconds())+1)
	if e.RetryAfter >= 2*time.Minute {
		wait = fmt.Sprintf("%d minutes", int(e.RetryAfter.Round(time.Minute)/time.Minute))
	}
	switch e.Scope {
	case "account":
		return "Too many failed sign-in attempts for this account. Try again in " + wait + "."
	case "second_factor":
		return "Too many wrong codes for this account. Try again in " + wait + "."
	case "reset_account":
		return "Too many password reset requests for this email address. Try again in " + wait + "."
	case "reset_address":
		return "Too many password reset requests from your network address. Try again in " + wait + "."
	}
	return "Too many failed sign-in attempts from your network address. Try again in " + wait + "."
}

// authThrottle is one throttle's state: consecutive failures and when the
// next attempt may come.
type authThrottle struct {
	Key           string `gorm:"primaryKey"`
	Failures      int
	LastFailureAt time.Time
	NextAt        time.Time
}

func (authThrottle) TableName() string { return "auth_throttle" }

// LockThrottle loads the key's state, locked for the rest of tx so that
// concurrent attempts on one key are counted one by one (SQLite's
// immediate transactions already serialize writers). Failures older than
// the rule's Forget are dropped.
func LockThrottle(tx *Tx, r ThrottleRule, key string, now time.Time) (*authThrottle, error) {
	if err := tx.G.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&authThrottle{Key: key, LastFailureAt: now, NextAt: now}).Error; err != nil {
		return nil, fmt.Errorf("throttle %s: %w", r.Scope, err)
	}
	q := tx.G
	if tx.Dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var t authThrottle
	if err := q.First(&t, "key = ?", key).Error; err != nil {
		return nil, fmt.Errorf("throttle %s: %w", r.Scope, err)
	}
	if now.Sub(t.LastFailureAt) > r.Forget {
		t.Failures = 0
	}
	return &t, nil
}

// Refused says whether an attempt now comes too early.
func (t *authThrottle) Refused(r ThrottleRule, now time.Time) *RateLimitError {
	if now.Before(t.NextAt) {
		return &RateLimitError{Scope: r.Scope, RetryAfter: t.NextAt.Sub(now)}
	}
	return nil
}

// CountFailure records one more failure and when the next attempt may come.
// Sign-in counts an attempt before checking the password, so concurrent
// guesses cannot all pass; a success then forgives it (clearThrottle,
// undoThrottle).
func CountFailure(tx *Tx, r ThrottleRule, t *authThrottle, now time.Time) error {
	t.Failures++
	t.LastFailureAt, t.NextAt = now, now.Add(r.Delay(t.Failures))
	if err := tx.G.Save(t).Error; err != nil {
		return fmt.Errorf("throttle %s: %w", r.Scope, err)
	}
	return nil
}

// ClearThrottle forgets the key's failures after a success.
func ClearThrottle(g *gorm.DB, key string) error {
	if err := g.Where("key = ?", key).Delete(&authThrottle{}).Error; err != nil {
		return fmt.Errorf("clear throttle: %w", err)
	}
	return nil
}

// UndoThrottle takes back one claimed failure after a success, for keys
// a success must not wipe: one person signing in from an office address
// does not forgive the guesses others made from it.
func UndoThrottle(g *gorm.DB, r ThrottleRule, key string, now time.Time) error {
	var t authThrottle
	if err := g.First(&t, "key = ?", key).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		return fmt.Errorf("throttle %s: %w", r.Scope, err)
	}
	t.Failures = max(t.Failures-1, 0)
	if r.Delay(t.Failures) == 0 {
		t.NextAt = now
	}
	if err := g.Save(&t).Error; err != nil {
		return fmt.Errorf("throttle %s: %w", r.Scope, err)
	}
	return nil
}

// SweepThrottles deletes the state of keys whose failures are forgotten,
// so addresses and unknown emails tried once do not pile up.
func SweepThrottles(g *gorm.DB, now time.Time) error {
	longest := max(AccountThrottle.Forget, AddressThrottle.Forget, SecondFactorThrottle.Forget)
	if err := g.Where("last_failure_at < ? AND next_at < ?", now.Add(-longest), now).Delete(&authThrottle{}).Error; err != nil {
		return fmt.Errorf("sweep throttles: %w", err)
	}
	return nil
}
