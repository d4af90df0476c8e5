package accounts

import (
	errs "github.com/sendara/console/models/errs"
	outbox "github.com/sendara/console/models/outbox"

	"context"
	"errors"
	"fmt"
	"time"

	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// InviteLifetime is how long an invitation link works.
const InviteLifetime = 7 * 24 * time.Hour

type invite struct {
	TokenHash string `gorm:"primaryKey"`
	UserID    string
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (invite) TableName() string { return "invites" }

// ErrInviteInvalid covers an unknown, used or replaced invitation (and,
// through InviteExpiredError, an expired one).
var ErrInviteInvalid = errors.New("this invitation link is not valid: it was used, has expired, or was replaced; ask your admin for a new one")

// InviteExpiredError is an invitation whose time ran out before it was
// used. errors.Is(err, ErrInviteInvalid) holds for it.
type InviteExpiredError struct{ ExpiredAt time.Time }

func (e *InviteExpiredError) Error() string {
	return "this invitation link expired on " + e.ExpiredAt.UTC().Format("2006-01-02 15:04") +
		" UTC; ask your admin to resend it (a resent invitation has a new link and a new expiry)"
}

// Is makes an expired invitation count as an invalid one.
func (e *InviteExpiredError) Is(target error) bool { return target == ErrInviteInvalid }

// Invitation is a mailed invitation link: Token is the secret of the link
// (stored only as its SHA-256), Link the URL mailed.
type Invitation struct {
	Token     string
	Link      string
	Email     string
	ExpiresAt time.Time
	// Resent says an unused earlier link was replaced (and stopped working).
	Resent bool
}

// PendingInvite is an invitation not yet used, live or expired, for the
// users page.
type PendingInvite struct {
	UserID    string
	Email     string
	Name      string
	ExpiresAt time.Time
}

// Expired says the link no longer works.
func (p PendingInvite) Expired() bool { return !store.Now().Before(p.ExpiresAt) }

// CreateInvite issues a single-use link for a user the actor may manage
// and mails it to the user through the outbox, in the same transaction as
// the audit entry (user.invite, or user.invite_resend when an unused link
// is replaced). Earlier links stop working: resending issues a new token
// and a new expiry. linkFor makes the mailed URL from the token. A user
// who already has a password gets the same link as a reset by their admin:
// choosing a password with it ends their sessions.
func (db *AccountStore) CreateInvite(ctx context.Context, actor store.Actor, userID string, linkFor func(token string) string) (*Invitation, error) {
	token := store.RandomToken()
	inv := &Invitation{Token: token, Link: linkFor(token), ExpiresAt: store.Now().Add(InviteLifetime).UTC()}
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		u, err := ScopedUserForUpdate(tx, userID)
		if err != nil {
			return err
		}
		if u.Disabled() {
			return errs.Invalid("user", "%s is disabled: enable the account before inviting", u.Email)
		}
		inv.Email = u.Email
		res := tx.G.Where("user_id = ?", u.ID).Delete(&invite{})
		if res.Error != nil {
			return fmt.Errorf("replace invitation: %w", res.Error)
		}
		inv.Resent = res.RowsAffected > 0
		if err := tx.G.Create(&invite{TokenHash: store.HashToken(token), UserID: u.ID, ExpiresAt: inv.ExpiresAt}).Error; err != nil {
			return fmt.Errorf("create invitation: %w", err)
		}
		action := "user.invite"
		if inv.Resent {
			action = "user.invite_resend"
		}
		tx.Audit(store.Audit{Action: action, ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant(),
			Details: map[string]any{"email": u.Email, "expires_at": inv.ExpiresAt.Format(time.RFC3339)}})
		return outbox.QueueMail(tx, inviteMail(u, actor, inv))
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

func inviteMail(u *User, by store.Actor, inv *Invitation) outbox.OutboundMail {
	hello := "Hello,"
	if u.Name != "" {
		hello = "Hello " + u.Name + ","
	}
	until := inv.ExpiresAt.Format("2006-01-02 15:04") + " UTC"
	inviter := by.Label
	if inviter == "" {
		inviter = "Your administrator"
	}
	subject, intro := "Your invitation to the Sendara Privacy Console",
		inviter+" invited you to the Sendara Privacy Console as "+u.Email+". Choose your password with this link:"
	if u.PasswordHash != "" {
		subject, intro = "A new sign-in link for the Sendara Privacy Console",
			inviter+" sent you a link to choose a new password for your Sendara Privacy Console account "+u.Email+
				". Choosing a password with it ends your other sessions:"
	}
	body := fmt.Sprintf("%s\n\n%s\n\n%s\n\nThe link works once, until %s. Any link sent to you before this one no longer works. "+
		"If it expires, ask your administrator to resend the invitation.\n\nIf you did not expect this mail, you can ignore it.\n",
		hello, intro, inv.Link, until)
	return outbox.OutboundMail{CustomerID: u.Tenant(), Kind: outbox.MailOther, To: u.Email, Subject: subject, Body: body}
}

// PendingInvites lists the unused invitations (live or expired) of the
// users the actor may manage, soonest expiry first.
func (db *AccountStore) PendingInvites(ctx context.Context, actor store.Actor) ([]PendingInvite, error) {
	var out []PendingInvite
	err := db.Gorm.WithContext(ctx).Table("invites").
		Select("invites.user_id, users.email, users.name, invites.expires_at").
		Joins("JOIN users ON users.id = invites.user_id").
		Scopes(actor.Tenant("users.customer_id")).
		Where("invites.used_at IS NULL AND users.disabled_at IS NULL").
		Order("invites.expires_at, users.email").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	return out, nil
}

// RevokeInvite withdraws a user's unused invitation: its link stops
// working at once. The account stays, without a way to sign in until an
// admin sends a new invitation. Audited as user.invite_revoke.
func (db *AccountStore) RevokeInvite(ctx context.Context, actor store.Actor, userID string) error {
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		u, err := ScopedUserForUpdate(tx, userID)
		if err != nil {
			return err
		}
		res := tx.G.Where("user_id = ? AND used_at IS NULL", u.ID).Delete(&invite{})
		if res.Error != nil {
			return fmt.Errorf("revoke invitation: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return errs.Invalid("user", "%s has no pending invitation to revoke", u.Email)
		}
		tx.Audit(store.Audit{Action: "user.invite_revoke", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant(),
			Details: map[string]any{"email": u.Email}})
		return nil
	})
}

// InviteUser returns the user an unexpired, unused invitation is for. An
// expired one gives *InviteExpiredError; an unknown, used or replaced one
// ErrInviteInvalid.
func (db *AccountStore) InviteUser(ctx context.Context, token string) (*User, error) {
	var inv invite
	err := db.Gorm.WithContext(ctx).First(&inv, "token_hash = ? AND used_at IS NULL", store.HashToken(token)).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrInviteInvalid
	} else if err != nil {
		return nil, fmt.Errorf("look up invitation: %w", err)
	}
	if !store.Now().Before(inv.ExpiresAt) {
		return nil, &InviteExpiredError{ExpiredAt: inv.ExpiresAt}
	}
	u, err := userByID(db.Gorm.WithContext(ctx), inv.UserID)
	if err != nil {
		return nil, err
	}
	if u.Disabled() {
		return nil, ErrInviteInvalid
	}
	return u, nil
}

// AcceptInvite sets the invited user's password and spends the link.
func (db *AccountStore) AcceptInvite(ctx context.Context, token, password, ip string) error {
	u, err := db.InviteUser(ctx, token)
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
		res := tx.G.Model(&invite{}).Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", store.HashToken(token), store.Now()).Update("used_at", store.Now())
		if res.Error != nil {
			return fmt.Errorf("spend invitation: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrInviteInvalid
		}
		if err := tx.G.Model(u).Updates(map[string]any{"password_hash": hash, "updated_at": store.Now()}).Error; err != nil {
			return fmt.Errorf("store password: %w", err)
		}
		// A new sign-in link is how an admin resets a compromised account:
		// whoever held the old password loses their sessions.
		if err := tx.G.Where("user_id = ?", u.ID).Delete(&Session{}).Error; err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		tx.Audit(store.Audit{Action: "user.invite_accept", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant()})
		return nil
	})
}
