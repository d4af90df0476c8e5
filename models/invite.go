package models

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// ErrInviteInvalid covers an unknown, used or expired invitation.
var ErrInviteInvalid = errors.New("this invitation link is not valid: it was used, has expired, or was replaced; ask your admin for a new one")

// CreateInvite issues a single-use link token for a user who has no
// password yet (or whose admin resets it). Earlier links stop working.
func (db *DB) CreateInvite(ctx context.Context, actor Actor, userID string) (string, error) {
	token := randomToken()
	err := db.Tx(ctx, actor, func(tx *Tx) error {
		u, err := scopedUserForUpdate(tx, userID)
		if err != nil {
			return err
		}
		if err := tx.G.Where("user_id = ?", u.ID).Delete(&invite{}).Error; err != nil {
			return fmt.Errorf("replace invitation: %w", err)
		}
		if err := tx.G.Create(&invite{TokenHash: hashToken(token), UserID: u.ID, ExpiresAt: Now().Add(InviteLifetime)}).Error; err != nil {
			return fmt.Errorf("create invitation: %w", err)
		}
		tx.Audit(Audit{Action: "user.invite", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant(),
			Details: map[string]any{"email": u.Email}})
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// InviteUser returns the user an unexpired, unused invitation is for.
func (db *DB) InviteUser(ctx context.Context, token string) (*User, error) {
	var inv invite
	err := db.Gorm.WithContext(ctx).First(&inv, "token_hash = ? AND used_at IS NULL AND expires_at > ?", hashToken(token), Now()).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrInviteInvalid
	} else if err != nil {
		return nil, fmt.Errorf("look up invitation: %w", err)
	}
	return userByID(db.Gorm.WithContext(ctx), inv.UserID)
}

// AcceptInvite sets the invited user's password and spends the link.
func (db *DB) AcceptInvite(ctx context.Context, token, password, ip string) error {
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
	return db.Tx(ctx, u.Actor(ip), func(tx *Tx) error {
		res := tx.G.Model(&invite{}).Where("token_hash = ? AND used_at IS NULL", hashToken(token)).Update("used_at", Now())
		if res.Error != nil {
			return fmt.Errorf("spend invitation: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrInviteInvalid
		}
		if err := tx.G.Model(u).Updates(map[string]any{"password_hash": hash, "updated_at": Now()}).Error; err != nil {
			return fmt.Errorf("store password: %w", err)
		}
		// A new sign-in link is how an admin resets a compromised account:
		// whoever held the old password loses their sessions.
		if err := tx.G.Where("user_id = ?", u.ID).Delete(&Session{}).Error; err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		tx.Audit(Audit{Action: "user.invite_accept", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant()})
		return nil
	})
}
