package accounts

import (
	customers "github.com/sendara/console/models/customers"
	outbox "github.com/sendara/console/models/outbox"

	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	store "github.com/sendara/console/models/store"
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

// MaxMFAFailures wrong codes end a half-open session: the next guesses
// need the password again (and SecondFactorThrottle counts them per
// account across sessions).
const MaxMFAFailures = 5

// ErrBadCredentials is the one answer for a wrong email or a wrong
// password, so the form does not reveal which accounts exist.
var ErrBadCredentials = errors.New("email or password is incorrect")

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
// failed or not, is an audit event. Attempts are throttled per account and
// per address (AccountThrottle, AddressThrottle); the account's owner is
// mailed when its failures reach the throttle and its ceiling.
func (db *AccountStore) Login(ctx context.Context, email, password, ip, userAgent string, policy SessionPolicy) (*LoginResult, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	now := store.Now()
	anon := store.Public("", email, ip)
	// 1. Claim the attempt: check the throttles and count this attempt as
	// a failure in one short transaction, so concurrent guesses cannot all
	// pass the check. The count is forgiven when the password turns out right.
	failures, err := db.claimLoginAttempt(ctx, anon, email, ip, now)
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
		failed := store.Audit{Action: "user.login_failed", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant(),
			Details: map[string]any{"reason": reason, "failures": failures}}
		if u.ID == "" || (failures != store.AccountThrottle.Free && failures != store.AccountThrottle.Ceiling) {
			if err := db.Record(ctx, anon, failed); err != nil {
				return nil, err
			}
			return nil, ErrBadCredentials
		}
		err := db.Tx(ctx, anon, func(tx *store.Tx) error {
			tx.Audit(failed)
			return warnOfFailures(tx, &u, store.AccountThrottle, failures, ip, now)
		})
		if err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	}
	// 3. Success: a new session (a fresh token: the id is rotated at sign-in).
	token := store.RandomToken()
	sess := Session{IDHash: store.HashToken(token), UserID: u.ID, IP: ip, UserAgent: store.Truncate(userAgent, 300),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(policy.Absolute)}
	required, err := db.MFARequired(ctx, &u)
	if err != nil {
		return nil, err
	}
	needsMFA := u.HasTOTP() || required
	sess.MFAPassed = !needsMFA
	err = db.Tx(ctx, u.Actor(ip), func(tx *store.Tx) error {
		if err := tx.G.Create(&sess).Error; err != nil {
			return fmt.Errorf("start session: %w", err)
		}
		if err := store.ClearThrottle(tx.G, "account:"+email); err != nil {
			return err
		}
		if err := store.UndoThrottle(tx.G, store.AddressThrottle, "address:"+ip, now); err != nil {
			return err
		}
		if err := store.SweepThrottles(tx.G, now); err != nil {
			return err
		}
		if err := tx.G.Model(&u).Update("last_login_at", now).Error; err != nil {
			return fmt.Errorf("record last login: %w", err)
		}
		tx.Audit(store.Audit{Action: "user.login", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant(),
			Details: map[string]any{"second_factor": map[bool]string{true: "required", false: "not_required"}[needsMFA]}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &LoginResult{Token: token, User: &u, NeedsMFA: needsMFA}, nil
}

// claimLoginAttempt refuses the attempt when the account or the address
// must still wait (auditing the refusal, which counts as no failure: a
// refused attempt tests no password), and otherwise counts it as a failure
// on both and returns the account's consecutive failures.
func (db *AccountStore) claimLoginAttempt(ctx context.Context, anon store.Actor, email, ip string, now time.Time) (int, error) {
	var limited *store.RateLimitError
	var failures int
	err := db.Tx(ctx, anon, func(tx *store.Tx) error {
		acct, err := store.LockThrottle(tx, store.AccountThrottle, "account:"+email, now)
		if err != nil {
			return err
		}
		addr, err := store.LockThrottle(tx, store.AddressThrottle, "address:"+ip, now)
		if err != nil {
			return err
		}
		if limited = acct.Refused(store.AccountThrottle, now); limited == nil {
			limited = addr.Refused(store.AddressThrottle, now)
		}
		if limited != nil {
			tx.Audit(store.Audit{Action: "user.login_failed", ObjectType: "user",
				Details: map[string]any{"reason": "rate_limited", "scope": limited.Scope}})
			return nil
		}
		if err := store.CountFailure(tx, store.AccountThrottle, acct, now); err != nil {
			return err
		}
		failures = acct.Failures
		return store.CountFailure(tx, store.AddressThrottle, addr, now)
	})
	if err != nil {
		return 0, err
	}
	if limited != nil {
		return 0, limited
	}
	return failures, nil
}

// warnOfFailures mails the account's owner, through the outbox, when its
// failures reach the point where attempts start to wait and when they
// reach the ceiling: someone may be guessing, or (for codes) knows the
// password.
func warnOfFailures(tx *store.Tx, u *User, r store.ThrottleRule, failures int, ip string, now time.Time) error {
	what := "sign-in attempts with a wrong password"
	if r.Scope == "second_factor" {
		what = "sign-in attempts with a correct password but a wrong two-step code"
	}
	body := fmt.Sprintf("Hello,\n\nThere were %d %s on your Sendara Privacy Console account %s, "+
		"the last from network address %s at %s UTC.\n\n", failures, what, u.Email, ip, now.Format("2006-01-02 15:04"))
	if failures >= r.Ceiling && r.Ceiling > 0 {
		body += fmt.Sprintf("That is the most the console allows in a row: this kind of sign-in is paused for %s.\n\n", r.CeilingWait)
	} else {
		body += "Each further failure now makes the next attempt wait longer (from seconds up to a quarter of an hour).\n\n"
	}
	if r.Scope == "second_factor" {
		body += "Whoever tried knew your password. If it was not you, change your password now and tell your administrator.\n"
	} else {
		body += "If it was you, wait a moment and try again. If it was not, your account is safe as long as your password " +
			"is not guessed; choose a longer one if in doubt, and tell your administrator.\n"
	}
	return outbox.QueueMail(tx, outbox.OutboundMail{CustomerID: u.Tenant(), Kind: outbox.MailOther, To: u.Email,
		Subject: "Failed sign-in attempts on your account", Body: body})
}

func (db *AccountStore) customerActive(ctx context.Context, u *User) (bool, error) {
	if u.CustomerID == nil {
		return true, nil
	}
	var c customers.Customer
	if err := db.Gorm.WithContext(ctx).Select("status").First(&c, "id = ?", *u.CustomerID).Error; err != nil {
		return false, fmt.Errorf("look up customer: %w", err)
	}
	return c.Status == customers.CustomerActive, nil
}

// ErrNoSession means the token names no live session: never issued,
// signed out, idle or past its absolute limit, or its user was disabled.
var ErrNoSession = errors.New("no session")

// SessionTouchInterval limits how often a session's last-seen time is
// written: once a minute is precise enough for an idle limit measured in
// minutes and keeps page views from becoming writes.
const SessionTouchInterval = time.Minute

// LoadSession returns the live session and its user for a cookie token.
func (db *AccountStore) LoadSession(ctx context.Context, token string, policy SessionPolicy) (*Session, *User, error) {
	if token == "" {
		return nil, nil, ErrNoSession
	}
	now := store.Now()
	var s Session
	if err := db.Gorm.WithContext(ctx).First(&s, "id_hash = ?", store.HashToken(token)).Error; err != nil {
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
func (db *AccountStore) Logout(ctx context.Context, actor store.Actor, token string) error {
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := tx.G.Where("id_hash = ?", store.HashToken(token)).Delete(&Session{}).Error; err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		tx.Audit(store.Audit{Action: "user.logout", ObjectType: "user", ObjectID: actor.ID, CustomerID: actor.CustomerID})
		return nil
	})
}
