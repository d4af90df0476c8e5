package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Session is a signed-in browser. Only the hash of its token is stored, so
// a copy of the database does not let anyone sign in.
type Session struct {
	IDHash      string `gorm:"primaryKey;column:id_hash"`
	UserID      string
	MFAPassed   bool `gorm:"column:mfa_passed"`
	MFAFailures int  `gorm:"column:mfa_failures"`
	IP          string
	UserAgent   string
	CreatedAt   time.Time
	LastSeenAt  time.Time
	ExpiresAt   time.Time
}

// SessionPolicy bounds a session's life.
type SessionPolicy struct {
	Idle     time.Duration // ends after this long without a request
	Absolute time.Duration // ends this long after sign-in, however active
}

// Login throttling: failures counted over a sliding window, per account and
// per client address. The per-address limit is higher because offices share
// one address.
const (
	LoginWindow         = 15 * time.Minute
	MaxFailuresPerEmail = 5
	MaxFailuresPerIP    = 20
	MaxMFAFailures      = 5
)

// ErrBadCredentials is the one answer for a wrong email or a wrong
// password, so the form does not reveal which accounts exist.
var ErrBadCredentials = errors.New("email or password is incorrect")

// RateLimitError means too many recent failures; RetryAfter says when the
// oldest counted failure leaves the window.
type RateLimitError struct {
	Scope      string // "account" or "address"
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	mins := int(e.RetryAfter.Round(time.Minute) / time.Minute)
	if mins < 1 {
		mins = 1
	}
	if e.Scope == "account" {
		return fmt.Sprintf("Too many failed sign-in attempts for this account. Try again in %d minutes.", mins)
	}
	return fmt.Sprintf("Too many failed sign-in attempts from your network address. Try again in %d minutes.", mins)
}

type loginFailure struct {
	ID    int64 `gorm:"primaryKey"`
	Email string
	IP    string
	At    time.Time
}

func (loginFailure) TableName() string { return "login_failures" }

// LoginResult is a new session after a correct password.
type LoginResult struct {
	Token string // the cookie value; shown once, stored hashed
	User  *User
	// NeedsMFA: the session is limited to the second-factor step until a
	// TOTP or recovery code is given (or enrolment is done, when !User.HasTOTP()).
	NeedsMFA bool
}

// Login checks the email and password and, when they match, starts a new
// session (a fresh token: the id is rotated at sign-in). Each attempt,
// failed or not, is an audit event.
func (db *DB) Login(ctx context.Context, email, password, ip, userAgent string, policy SessionPolicy) (*LoginResult, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	now := Now()
	anon := Public("", email, ip)
	// 1. Claim the attempt: check the limits and count this attempt as a
	// failure in one short transaction, so concurrent guesses cannot all
	// pass the check. The count is cleared when the password turns out right.
	attempt, err := db.claimLoginAttempt(ctx, anon, email, ip, now)
	if err != nil {
		return nil, err
	}
	// 2. Compare outside any transaction: argon2id takes tens of
	// milliseconds and must not hold a lock or SQLite's one connection.
	var u User
	err = db.Gorm.WithContext(ctx).Preload("Roles").First(&u, "email = ?", email).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	reason := ""
	switch {
	case !passwordMatches(u.PasswordHash, password) || u.ID == "":
		reason = "bad_credentials"
	case u.Disabled():
		reason = "disabled"
	default:
		if ok, err := db.customerActive(ctx, &u); err != nil {
			return nil, err
		} else if !ok {
			reason = "customer_inactive"
		}
	}
	if reason != "" {
		anon.ID = u.ID
		if err := db.Record(ctx, anon, Audit{Action: "user.login_failed", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant(),
			Details: map[string]any{"reason": reason}}); err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	}
	// 3. Success: a new session (a fresh token: the id is rotated at sign-in).
	token := randomToken()
	sess := Session{IDHash: hashToken(token), UserID: u.ID, IP: ip, UserAgent: truncate(userAgent, 300),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(policy.Absolute)}
	needsMFA := u.HasTOTP() || u.Role().RequiresTOTP()
	sess.MFAPassed = !needsMFA
	err = db.Tx(ctx, u.Actor(ip), func(tx *Tx) error {
		if err := tx.G.Create(&sess).Error; err != nil {
			return fmt.Errorf("start session: %w", err)
		}
		if err := tx.G.Where("id = ? OR email = ?", attempt, email).Delete(&loginFailure{}).Error; err != nil {
			return fmt.Errorf("clear login failures: %w", err)
		}
		if err := tx.G.Model(&u).Update("last_login_at", now).Error; err != nil {
			return fmt.Errorf("record last login: %w", err)
		}
		tx.Audit(Audit{Action: "user.login", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant(),
			Details: map[string]any{"second_factor": map[bool]string{true: "required", false: "not_required"}[needsMFA]}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &LoginResult{Token: token, User: &u, NeedsMFA: needsMFA}, nil
}

// claimLoginAttempt refuses the attempt when the account or the address has
// too many recent failures (auditing the refusal), and otherwise records it
// as a failure and returns its id. On PostgreSQL advisory locks on the
// account and the address serialize the check and the insert; SQLite's
// immediate transactions already do.
func (db *DB) claimLoginAttempt(ctx context.Context, anon Actor, email, ip string, now time.Time) (int64, error) {
	var limited error
	var id int64
	err := db.Tx(ctx, anon, func(tx *Tx) error {
		if db.Dialect == Postgres {
			for _, key := range []string{"login-email:" + email, "login-ip:" + ip} {
				if err := tx.G.Exec("SELECT pg_advisory_xact_lock(hashtext(?))", key).Error; err != nil {
					return fmt.Errorf("serialize login attempts: %w", err)
				}
			}
		}
		if limited = loginAllowed(tx.G, email, ip, now.Add(-LoginWindow), now); limited != nil {
			var rl *RateLimitError
			if !errors.As(limited, &rl) {
				return limited
			}
			tx.Audit(Audit{Action: "user.login_failed", ObjectType: "user", Details: map[string]any{"reason": "rate_limited", "scope": rl.Scope}})
			return nil
		}
		f := loginFailure{Email: email, IP: ip, At: now}
		if err := tx.G.Create(&f).Error; err != nil {
			return fmt.Errorf("record login attempt: %w", err)
		}
		id = f.ID
		return nil
	})
	if err != nil {
		return 0, err
	}
	return id, limited
}

func loginAllowed(g *gorm.DB, email, ip string, since, now time.Time) error {
	check := func(scope, column, value string, limit int) error {
		var fs []loginFailure
		err := g.Where(column+" = ? AND at > ?", value, since).Order("at DESC").Limit(limit).Find(&fs).Error
		if err != nil {
			return fmt.Errorf("count login failures: %w", err)
		}
		if len(fs) >= limit {
			return &RateLimitError{Scope: scope, RetryAfter: fs[limit-1].At.Add(LoginWindow).Sub(now)}
		}
		return nil
	}
	if err := check("account", "email", email, MaxFailuresPerEmail); err != nil {
		return err
	}
	return check("address", "ip", ip, MaxFailuresPerIP)
}

func (db *DB) customerActive(ctx context.Context, u *User) (bool, error) {
	if u.CustomerID == nil {
		return true, nil
	}
	var c Customer
	if err := db.Gorm.WithContext(ctx).Select("status").First(&c, "id = ?", *u.CustomerID).Error; err != nil {
		return false, fmt.Errorf("look up customer: %w", err)
	}
	return c.Status == CustomerActive, nil
}

// ErrNoSession means the token names no live session: never issued,
// signed out, idle or past its absolute limit, or its user was disabled.
var ErrNoSession = errors.New("no session")

// SessionTouchInterval limits how often a session's last-seen time is
// written: once a minute is precise enough for an idle limit measured in
// minutes and keeps page views from becoming writes.
const SessionTouchInterval = time.Minute

// LoadSession returns the live session and its user for a cookie token.
func (db *DB) LoadSession(ctx context.Context, token string, policy SessionPolicy) (*Session, *User, error) {
	if token == "" {
		return nil, nil, ErrNoSession
	}
	now := Now()
	var s Session
	if err := db.Gorm.WithContext(ctx).First(&s, "id_hash = ?", hashToken(token)).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil, ErrNoSession
		}
		return nil, nil, fmt.Errorf("load session: %w", err)
	}
	if now.After(s.ExpiresAt) || now.After(s.LastSeenAt.Add(policy.Idle)) {
		db.Gorm.WithContext(ctx).Delete(&s)
		return nil, nil, ErrNoSession
	}
	u, err := userByID(db.Gorm.WithContext(ctx), s.UserID)
	if err != nil {
		return nil, nil, fmt.Errorf("load session user: %w", err)
	}
	if u.Disabled() {
		return nil, nil, ErrNoSession
	}
	if ok, err := db.customerActive(ctx, u); err != nil || !ok {
		return nil, nil, ErrNoSession
	}
	if now.Sub(s.LastSeenAt) > SessionTouchInterval {
		s.LastSeenAt = now
		db.Gorm.WithContext(ctx).Model(&s).Update("last_seen_at", now)
	}
	return &s, u, nil
}

// Logout ends the session.
func (db *DB) Logout(ctx context.Context, actor Actor, token string) error {
	return db.Tx(ctx, actor, func(tx *Tx) error {
		if err := tx.G.Where("id_hash = ?", hashToken(token)).Delete(&Session{}).Error; err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		tx.Audit(Audit{Action: "user.logout", ObjectType: "user", ObjectID: actor.ID, CustomerID: actor.CustomerID})
		return nil
	})
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
