package accounts

import (
	customers "github.com/sendara/console/models/customers"
	errs "github.com/sendara/console/models/errs"

	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm/clause"
)

// TOTPIssuer names the console in authenticator apps.
const TOTPIssuer = "Sendara Privacy Console"

// RecoveryCodeCount is how many single-use recovery codes a user gets.
const RecoveryCodeCount = 10

type recoveryCode struct {
	UserID   string `gorm:"primaryKey"`
	CodeHash string `gorm:"primaryKey"`
	UsedAt   *time.Time
}

func (recoveryCode) TableName() string { return "recovery_codes" }

// ErrBadCode is a wrong TOTP or recovery code.
var ErrBadCode = errors.New("that code is not valid")

// ErrTooManyCodes ends a session after MaxMFAFailures wrong codes.
var ErrTooManyCodes = errors.New("too many wrong codes: sign in again")

// BeginTOTP returns the user's pending TOTP key, creating one if needed.
// The secret is kept unconfirmed until ConfirmTOTP sees a valid code.
func (db *AccountStore) BeginTOTP(ctx context.Context, u *User) (*otp.Key, error) {
	if u.TOTPSecret != "" && !u.HasTOTP() {
		pending, err := db.Keys.Open(store.TotpLabel(u.ID), u.TOTPSecret)
		if err != nil {
			return nil, err
		}
		return TOTPKey(u.Email, pending)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: u.Email})
	if err != nil {
		return nil, fmt.Errorf("generate TOTP key: %w", err)
	}
	// Re-enrolment replaces the factor only once the new one is confirmed.
	if u.HasTOTP() {
		return key, nil
	}
	sealed, err := db.Keys.Seal(store.TotpLabel(u.ID), key.Secret())
	if err != nil {
		return nil, err
	}
	if err := db.Gorm.WithContext(ctx).Model(u).Update("totp_secret", sealed).Error; err != nil {
		return nil, fmt.Errorf("store TOTP key: %w", err)
	}
	u.TOTPSecret = sealed
	return key, nil
}

// TOTPKey rebuilds the key for a base32 secret, to show it again when a
// set-up attempt needs another try.
func TOTPKey(email, secret string) (*otp.Key, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
	if err != nil || len(raw) < 10 {
		return nil, errs.Invalid("secret", "is not a TOTP key")
	}
	return totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: email, Secret: raw})
}

// totpPeriod is the TOTP time step; codes of the step before and after
// are accepted too, for clocks a little off.
const totpPeriod = 30

// matchTOTP returns the time step whose code matches, or 0. A step at or
// before lastStep was already used: the code is refused as a replay.
func matchTOTP(secret, code string, lastStep int64, now time.Time) int64 {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0
	}
	current := now.Unix() / totpPeriod
	for _, step := range []int64{current - 1, current, current + 1} {
		if step <= lastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{
			Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step
		}
	}
	return 0
}

// ConfirmTOTP enables the second factor when code matches secret, marks the
// session as past its second factor, and returns fresh recovery codes
// (shown once; stored hashed).
func (db *AccountStore) ConfirmTOTP(ctx context.Context, actor store.Actor, sessionToken, secret, code string) ([]string, error) {
	step := matchTOTP(secret, code, 0, time.Now())
	if step == 0 {
		return nil, errs.Invalid("code", "does not match: check your authenticator's clock and try the current code")
	}
	codes := make([]string, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
	}
	sealed, err := db.Keys.Seal(store.TotpLabel(actor.ID), secret)
	if err != nil {
		return nil, err
	}
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		now := store.Now()
		if err := tx.G.Model(&User{}).Where("id = ?", actor.ID).Updates(map[string]any{
			"totp_secret": sealed, "totp_enabled_at": now, "totp_last_step": step, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("enable TOTP: %w", err)
		}
		if err := tx.G.Where("user_id = ?", actor.ID).Delete(&recoveryCode{}).Error; err != nil {
			return fmt.Errorf("replace recovery codes: %w", err)
		}
		rows := make([]recoveryCode, len(codes))
		for i, c := range codes {
			rows[i] = recoveryCode{UserID: actor.ID, CodeHash: store.HashToken(normalizeRecovery(c))}
		}
		if err := tx.G.Create(&rows).Error; err != nil {
			return fmt.Errorf("store recovery codes: %w", err)
		}
		if err := tx.G.Model(&Session{}).Where("id_hash = ? AND user_id = ?", store.HashToken(sessionToken), actor.ID).Update("mfa_passed", true).Error; err != nil {
			return fmt.Errorf("update session: %w", err)
		}
		tx.Audit(store.Audit{Action: "user.mfa_enrol", ObjectType: "user", ObjectID: actor.ID, CustomerID: actor.CustomerID})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// VerifySecondFactor checks a TOTP code or an unused recovery code for the
// session's user. After MaxMFAFailures wrong codes the session ends; the
// account's wrong codes are also throttled across sessions and instances
// (SecondFactorThrottle: a *RateLimitError while it must wait), and its
// owner is mailed when they reach the throttle, since whoever typed them
// knew the password.
func (db *AccountStore) VerifySecondFactor(ctx context.Context, actor store.Actor, sessionToken string, u *User, code string) error {
	code = strings.TrimSpace(code)
	var outcome error
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		now := store.Now()
		throttleKey := "second_factor:" + u.ID
		throttle, err := store.LockThrottle(tx, store.SecondFactorThrottle, throttleKey, now)
		if err != nil {
			return err
		}
		if rl := throttle.Refused(store.SecondFactorThrottle, now); rl != nil {
			tx.Audit(store.Audit{Action: "user.mfa_failed", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant(),
				Details: map[string]any{"reason": "rate_limited"}})
			outcome = rl
			return nil
		}
		// Locking the session row makes concurrent wrong codes count one by
		// one against MaxMFAFailures (SQLite's write lock already does).
		var s Session
		q := tx.G
		if tx.Dialect == store.Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.First(&s, "id_hash = ? AND user_id = ?", store.HashToken(sessionToken), u.ID).Error; err != nil {
			return store.NotFound(err)
		}
		method := "totp"
		// The user's last step is read inside the transaction, so two
		// requests racing with one code cannot both pass.
		var fresh User
		if err := tx.G.Select("totp_last_step").First(&fresh, "id = ?", u.ID).Error; err != nil {
			return fmt.Errorf("read TOTP state: %w", err)
		}
		step := int64(0)
		if u.HasTOTP() {
			secret, err := tx.Keys.Open(store.TotpLabel(u.ID), u.TOTPSecret)
			if err != nil {
				return err
			}
			step = matchTOTP(secret, code, fresh.TOTPLastStep, time.Now())
		}
		ok := step != 0
		if ok {
			res := tx.G.Model(&User{}).Where("id = ? AND totp_last_step = ?", u.ID, fresh.TOTPLastStep).Update("totp_last_step", step)
			if res.Error != nil {
				return fmt.Errorf("record TOTP step: %w", res.Error)
			}
			ok = res.RowsAffected == 1
		}
		if !ok {
			method = "recovery_code"
			res := tx.G.Model(&recoveryCode{}).
				Where("user_id = ? AND code_hash = ? AND used_at IS NULL", u.ID, store.HashToken(normalizeRecovery(code))).
				Update("used_at", store.Now())
			if res.Error != nil {
				return fmt.Errorf("use recovery code: %w", res.Error)
			}
			ok = res.RowsAffected == 1
		}
		if ok {
			tx.Audit(store.Audit{Action: "user.mfa_pass", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant(),
				Details: map[string]any{"method": method}})
			if err := store.ClearThrottle(tx.G, throttleKey); err != nil {
				return err
			}
			return tx.G.Model(&s).Updates(map[string]any{"mfa_passed": true, "mfa_failures": 0}).Error
		}
		tx.Audit(store.Audit{Action: "user.mfa_failed", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant()})
		if err := store.CountFailure(tx, store.SecondFactorThrottle, throttle, now); err != nil {
			return err
		}
		if throttle.Failures == store.SecondFactorThrottle.Free || throttle.Failures == store.SecondFactorThrottle.Ceiling {
			if err := warnOfFailures(tx, u, store.SecondFactorThrottle, throttle.Failures, actor.IP, now); err != nil {
				return err
			}
		}
		if s.MFAFailures+1 >= MaxMFAFailures {
			outcome = ErrTooManyCodes
			return tx.G.Delete(&s).Error
		}
		outcome = ErrBadCode
		return tx.G.Model(&s).Update("mfa_failures", s.MFAFailures+1).Error
	})
	if err != nil {
		return err
	}
	return outcome
}

// RecoveryCodesLeft counts the user's unused recovery codes.
func (db *AccountStore) RecoveryCodesLeft(ctx context.Context, userID string) (int64, error) {
	var n int64
	err := db.Gorm.WithContext(ctx).Model(&recoveryCode{}).Where("user_id = ? AND used_at IS NULL", userID).Count(&n).Error
	return n, err
}

// DisableTOTP removes the second factor of a customer user who opted in.
// Staff roles cannot: they must always use one.
func (db *AccountStore) DisableTOTP(ctx context.Context, actor store.Actor, u *User, password string) error {
	if u.Role().RequiresTOTP() {
		return errs.Invalid("totp", "staff roles must keep two-step sign-in")
	}
	if required, err := db.MFARequired(ctx, u); err != nil {
		return err
	} else if required {
		return errs.Invalid("totp", "your organisation requires two-step sign-in for every user")
	}
	if !passwordMatches(u.PasswordHash, password) {
		return errs.Invalid("current_password", "is not your current password")
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := tx.G.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{"totp_secret": "", "totp_enabled_at": nil, "updated_at": store.Now()}).Error; err != nil {
			return fmt.Errorf("disable TOTP: %w", err)
		}
		if err := tx.G.Where("user_id = ?", u.ID).Delete(&recoveryCode{}).Error; err != nil {
			return fmt.Errorf("remove recovery codes: %w", err)
		}
		tx.Audit(store.Audit{Action: "user.mfa_disable", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant()})
		return nil
	})
}

func newRecoveryCode() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	return s[:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

func normalizeRecovery(c string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(c))
}

// MFARequired says whether u must use two-step sign-in: staff roles
// always, customer users when their customer requires it for everyone.
func (db *AccountStore) MFARequired(ctx context.Context, u *User) (bool, error) {
	if u.Role().RequiresTOTP() {
		return true, nil
	}
	if u.CustomerID == nil {
		return false, nil
	}
	var c customers.Customer
	if err := db.Gorm.WithContext(ctx).Select("require_mfa").First(&c, "id = ?", *u.CustomerID).Error; err != nil {
		return false, fmt.Errorf("look up customer: %w", err)
	}
	return c.RequireMFA, nil
}

// SetRequireMFA makes two-step sign-in required (or optional again) for
// every user of the acting customer admin's customer. It applies at each
// user's next sign-in: a user without an authenticator then sets one up
// before reaching any page.
func (db *AccountStore) SetRequireMFA(ctx context.Context, actor store.Actor, required bool) error {
	if actor.Staff() {
		return errs.Invalid("require_mfa", "is a customer's setting: staff always use two-step sign-in")
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		var c customers.Customer
		if err := tx.G.Scopes(actor.Tenant("id")).First(&c, "id = ?", actor.CustomerID).Error; err != nil {
			return store.NotFound(err)
		}
		if c.RequireMFA == required {
			return nil
		}
		if err := tx.G.Model(&c).Updates(map[string]any{"require_mfa": required, "updated_at": store.Now()}).Error; err != nil {
			return fmt.Errorf("update customer: %w", err)
		}
		tx.Audit(store.Audit{Action: "customer.require_mfa", ObjectType: "customer", ObjectID: c.ID, CustomerID: c.ID,
			Details: map[string]any{"before": c.RequireMFA, "after": required}})
		return nil
	})
}
