package accounts

import (
	errs "github.com/sendara/console/models/errs"
	outbox "github.com/sendara/console/models/outbox"

	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// PasswordResetLifetime is how long a "forgot password" link works.
const PasswordResetLifetime = time.Hour

// The throttles of "forgot password" requests: each request counts,
// known address or not, so the limits say nothing about which accounts
// exist. Per address typed (three mails, then a wait from 5 minutes up to
// an hour: nobody can flood a mailbox) and per client address.
var (
	ResetAccountThrottle = store.ThrottleRule{Scope: "reset_account", Free: 3, Base: 5 * time.Minute, Max: time.Hour,
		Forget: time.Hour}
	ResetAddressThrottle = store.ThrottleRule{Scope: "reset_address", Free: 10, Base: time.Minute, Max: time.Hour,
		Forget: time.Hour}
)

type passwordReset struct {
	TokenHash string `gorm:"primaryKey"`
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (passwordReset) TableName() string { return "password_resets" }

// ErrResetInvalid covers an unknown, used or replaced reset link.
var ErrResetInvalid = errors.New("this password reset link is not valid: it was used or replaced by a newer one; ask for a new link")

// ResetExpiredError is a reset link whose hour ran out.
// errors.Is(err, ErrResetInvalid) holds for it.
type ResetExpiredError struct{ ExpiredAt time.Time }

func (e *ResetExpiredError) Error() string {
	return "this password reset link expired at " + e.ExpiredAt.UTC().Format("2006-01-02 15:04") +
		" UTC (links work for one hour); ask for a new link"
}

// Is makes an expired link count as an invalid one.
func (e *ResetExpiredError) Is(target error) bool { return target == ErrResetInvalid }

// RequestPasswordReset handles a "forgot password" form. Whatever the
// address, the caller answers the same; nothing returned says whether an
// account exists (only a *RateLimitError, which counts every address
// alike). When the address is an active account with a password, a
// single-use link valid PasswordResetLifetime is mailed through the
// outbox, replacing any earlier unused one. Every request is audited as
// user.password_reset_request, in the transaction that queues the mail;
// the entry says (to auditors only) whether a mail was sent and why not.
func (db *AccountStore) RequestPasswordReset(ctx context.Context, email, ip string, linkFor func(token string) string) error {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || len(email) > 320 || !strings.Contains(email, "@") {
		return errs.Invalid("email", "must be an email address")
	}
	now := store.Now()
	// Read the account before the transaction (SQLite's one connection).
	var u User
	err := db.Gorm.WithContext(ctx).First(&u, "email = ?", email).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("look up user: %w", err)
	}
	outcome := "mailed"
	switch {
	case u.ID == "":
		outcome = "no_account"
	case u.Disabled():
		outcome = "disabled"
	case u.PasswordHash == "":
		// An invitation not accepted (or revoked) is the admin's to resend.
		outcome = "no_password"
	default:
		if ok, err := db.customerActive(ctx, &u); err != nil {
			return err
		} else if !ok {
			outcome = "customer_inactive"
		}
	}
	var limited *store.RateLimitError
	token := store.RandomToken()
	err = db.Tx(ctx, store.Public(u.ID, email, ip), func(tx *store.Tx) error {
		acct, err := store.LockThrottle(tx, ResetAccountThrottle, "reset-account:"+email, now)
		if err != nil {
			return err
		}
		addr, err := store.LockThrottle(tx, ResetAddressThrottle, "reset-address:"+ip, now)
		if err != nil {
			return err
		}
		if limited = acct.Refused(ResetAccountThrottle, now); limited == nil {
			limited = addr.Refused(ResetAddressThrottle, now)
		}
		details := map[string]any{"email": email, "outcome": outcome}
		entry := store.Audit{Action: "user.password_reset_request", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant(), Details: details}
		if limited != nil {
			details["outcome"], details["scope"] = "rate_limited", limited.Scope
			tx.Audit(entry)
			return nil
		}
		if err := store.CountFailure(tx, ResetAccountThrottle, acct, now); err != nil {
			return err
		}
		if err := store.CountFailure(tx, ResetAddressThrottle, addr, now); err != nil {
			return err
		}
		tx.Audit(entry)
		if outcome != "mailed" {
			return nil
		}
		if err := tx.G.Where("user_id = ? AND used_at IS NULL", u.ID).Delete(&passwordReset{}).Error; err != nil {
			return fmt.Errorf("replace reset link: %w", err)
		}
		expires := now.Add(PasswordResetLifetime)
		if err := tx.G.Create(&passwordReset{TokenHash: store.HashToken(token), UserID: u.ID, CreatedAt: now, ExpiresAt: expires}).Error; err != nil {
			return fmt.Errorf("create reset link: %w", err)
		}
		return outbox.QueueMail(tx, resetMail(&u, linkFor(token), expires, ip))
	})
	if err != nil {
		return err
	}
	if limited != nil {
		return limited
	}
	return nil
}

func resetMail(u *User, link string, expires time.Time, ip string) outbox.OutboundMail {
	body := fmt.Sprintf("Hello,\n\nSomeone (from network address %s) asked to reset the password of your Sendara Privacy Console account %s. "+
		"To choose a new password, open this link:\n\n%s\n\nThe link works once, until %s UTC (one hour). "+
		"Choosing a new password ends every session of your account. If you use two-step sign-in, you will still be asked for your code.\n\n"+
		"If it was not you, ignore this mail: your password stays as it is.\n",
		ip, u.Email, link, expires.UTC().Format("2006-01-02 15:04"))
	return outbox.OutboundMail{CustomerID: u.Tenant(), Kind: outbox.MailOther, To: u.Email,
		Subject: "Reset your Sendara Privacy Console password", Body: body}
}

// PasswordResetUser returns the user a live reset link is for. An expired
// link gives *ResetExpiredError; an unknown, used or replaced one
// ErrResetInvalid.
func (db *AccountStore) PasswordResetUser(ctx context.Context, token string) (*User, error) {
	var r passwordReset
	err := db.Gorm.WithContext(ctx).First(&r, "token_hash = ? AND used_at IS NULL", store.HashToken(token)).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrResetInvalid
	} else if err != nil {
		return nil, fmt.Errorf("look up reset link: %w", err)
	}
	if !store.Now().Before(r.ExpiresAt) {
		return nil, &ResetExpiredError{ExpiredAt: r.ExpiresAt}
	}
	u, err := userByID(db.Gorm.WithContext(ctx), r.UserID)
	if err != nil {
		return nil, err
	}
	if u.Disabled() {
		return nil, ErrResetInvalid
	}
	if ok, err := db.customerActive(ctx, u); err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrResetInvalid
	}
	return u, nil
}

// ResetPassword sets a new password with a reset link (the password rules
// of CheckPassword), spends the link and any other of the user's, and ends
// every session of the user, in one transaction audited as
// user.password_reset. The second factor is untouched: sign-in still asks
// for it.
func (db *AccountStore) ResetPassword(ctx context.Context, token, password, ip string) error {
	u, err := db.PasswordResetUser(ctx, token)
	if err != nil {
		return err
	}
	if err := CheckPassword(password, u.Email); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return db.Tx(ctx, u.Actor(ip), func(tx *store.Tx) error {
		now := store.Now()
		res := tx.G.Model(&passwordReset{}).Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", store.HashToken(token), now).Update("used_at", now)
		if res.Error != nil {
			return fmt.Errorf("spend reset link: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrResetInvalid
		}
		if err := tx.G.Where("user_id = ? AND used_at IS NULL", u.ID).Delete(&passwordReset{}).Error; err != nil {
			return fmt.Errorf("spend other reset links: %w", err)
		}
		if err := tx.G.Model(u).Updates(map[string]any{"password_hash": hash, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("store password: %w", err)
		}
		if err := tx.G.Where("user_id = ?", u.ID).Delete(&Session{}).Error; err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		if err := store.ClearThrottle(tx.G, "reset-account:"+u.Email); err != nil {
			return err
		}
		tx.Audit(store.Audit{Action: "user.password_reset", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant(),
			Details: map[string]any{"sessions_ended": "all", "second_factor": map[bool]string{true: "kept", false: "none"}[u.HasTOTP()]}})
		return nil
	})
}
