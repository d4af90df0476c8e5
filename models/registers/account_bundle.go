package registers

import (
	accounts "github.com/sendara/console/models/accounts"
	customers "github.com/sendara/console/models/customers"

	outbox "github.com/sendara/console/models/outbox"

	"context"
	"fmt"
	"time"

	store "github.com/sendara/console/models/store"
)

// AccountBundle is the access bundle of a business customer's own account,
// where Sendara is the controller (policy §2.1–2.2): the account record,
// its users, their sign-in history, the API usage and the mail Sendara
// exchanged with the account (support mail). Secrets (password hashes,
// TOTP secrets, key hashes) are never part of it.
type AccountBundle struct {
	GeneratedAt time.Time             `json:"generated_at"`
	Account     AccountBundleCustomer `json:"account"`
	Users       []AccountBundleUser   `json:"users"`
	SignIns     []AccountBundleSignIn `json:"sign_in_history"`
	APIKeys     []AccountBundleKey    `json:"api_keys"`
	Usage       []AccountBundleUsage  `json:"api_usage"`
	Mail        []AccountBundleMail   `json:"support_mail"`
}

// AccountBundleCustomer is the account record.
type AccountBundleCustomer struct {
	Name          string     `json:"name"`
	Slug          string     `json:"slug"`
	ContactEmail  string     `json:"contact_email"`
	CRMType       string     `json:"crm_type"`
	Status        string     `json:"status"`
	CreatedAt     time.Time  `json:"created_at"`
	DPAAcceptedAt *time.Time `json:"dpa_accepted_at"`
	CancelledAt   *time.Time `json:"cancelled_at"`
}

// AccountBundleUser is one user of the account, without secrets.
type AccountBundleUser struct {
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Roles       []string   `json:"roles"`
	TwoStep     bool       `json:"two_step_sign_in"`
	CreatedAt   time.Time  `json:"created_at"`
	LastLoginAt *time.Time `json:"last_login_at"`
	DisabledAt  *time.Time `json:"disabled_at"`
}

// AccountBundleSignIn is one sign-in or failed attempt of a user.
type AccountBundleSignIn struct {
	At      time.Time `json:"at"`
	User    string    `json:"user"`
	Outcome string    `json:"outcome"`
	IP      string    `json:"ip"`
}

// AccountBundleKey is one API key, without its secret.
type AccountBundleKey struct {
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scope      string     `json:"scope"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// AccountBundleUsage is the calls one key made in one hour.
type AccountBundleUsage struct {
	Key   string    `json:"key"`
	Hour  time.Time `json:"hour"`
	Kind  string    `json:"kind"`
	Count int64     `json:"count"`
}

// AccountBundleMail is one mail Sendara sent about the account.
type AccountBundleMail struct {
	At      time.Time  `json:"at"`
	To      string     `json:"to"`
	Kind    string     `json:"kind"`
	Subject string     `json:"subject"`
	Body    string     `json:"body"`
	Status  string     `json:"status"`
	SentAt  *time.Time `json:"sent_at"`
}

// AccountBundleFor gathers the account bundle of customerID and writes the
// audit entry customer.account_bundle with its counts in the same
// transaction. Staff only: Sendara answers the account holder's request.
func (db *RegisterStore) AccountBundleFor(ctx context.Context, actor store.Actor, customerID string) (*AccountBundle, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	b := &AccountBundle{GeneratedAt: store.Now()}
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		g := tx.G
		if !store.ValidID(customerID) {
			return store.ErrNotFound
		}
		var c customers.Customer
		if err := g.First(&c, "id = ?", customerID).Error; err != nil {
			return store.NotFound(err)
		}
		b.Account = AccountBundleCustomer{Name: c.Name, Slug: c.Slug, ContactEmail: c.ContactEmail, CRMType: c.CRMType, Status: c.Status,
			CreatedAt: c.CreatedAt, DPAAcceptedAt: c.DPAAcceptedAt, CancelledAt: c.CancelledAt}
		var users []accounts.User
		if err := g.Preload("Roles").Where("customer_id = ?", c.ID).Order("email").Find(&users).Error; err != nil {
			return fmt.Errorf("read users: %w", err)
		}
		ids := make([]string, len(users))
		emails := map[string]string{}
		for i, u := range users {
			ids[i], emails[u.ID] = u.ID, u.Email
			roles := make([]string, len(u.Roles))
			for k, r := range u.Roles {
				roles[k] = string(r.Role)
			}
			b.Users = append(b.Users, AccountBundleUser{Email: u.Email, Name: u.Name, Roles: roles, TwoStep: u.TOTPEnabledAt != nil,
				CreatedAt: u.CreatedAt, LastLoginAt: u.LastLoginAt, DisabledAt: u.DisabledAt})
		}
		if len(ids) > 0 {
			var events []store.AuditEvent
			if err := g.Where("object_type = ? AND object_id IN ? AND action IN ?", "user", ids, []string{"user.login", "user.login_failed"}).
				Order("seq").Find(&events).Error; err != nil {
				return fmt.Errorf("read sign-ins: %w", err)
			}
			for _, e := range events {
				outcome := "signed in"
				if e.Action == "user.login_failed" {
					outcome = "failed"
				}
				b.SignIns = append(b.SignIns, AccountBundleSignIn{At: e.OccurredAt, User: emails[e.ObjectID], Outcome: outcome, IP: e.IP})
			}
		}
		var keys []accounts.APIKey
		if err := g.Where("customer_id = ?", c.ID).Order("created_at").Find(&keys).Error; err != nil {
			return fmt.Errorf("read keys: %w", err)
		}
		names := map[string]string{}
		keyIDs := make([]string, len(keys))
		for i, k := range keys {
			keyIDs[i], names[k.ID] = k.ID, k.Name
			b.APIKeys = append(b.APIKeys, AccountBundleKey{Name: k.Name, Prefix: k.Prefix, Scope: k.Scope, CreatedAt: k.CreatedAt,
				LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt})
		}
		if len(keyIDs) > 0 {
			var usage []accounts.APIUsage
			if err := g.Where("key_id IN ?", keyIDs).Order("hour, key_id, kind").Find(&usage).Error; err != nil {
				return fmt.Errorf("read usage: %w", err)
			}
			for _, u := range usage {
				b.Usage = append(b.Usage, AccountBundleUsage{Key: names[u.KeyID], Hour: u.Hour, Kind: u.Kind, Count: u.Count})
			}
		}
		var mails []outbox.OutboxMail
		if err := g.Where("customer_id = ? AND request_id IS NULL", c.ID).Order("created_at").Find(&mails).Error; err != nil {
			return fmt.Errorf("read mail: %w", err)
		}
		for _, m := range mails {
			b.Mail = append(b.Mail, AccountBundleMail{At: m.CreatedAt, To: m.ToAddr, Kind: m.Kind, Subject: m.Subject, Body: m.BodyText,
				Status: m.Status, SentAt: m.SentAt})
		}
		tx.Audit(store.Audit{Action: "customer.account_bundle", ObjectType: "customer", ObjectID: c.ID, CustomerID: c.ID,
			Details: map[string]any{"users": len(b.Users), "sign_ins": len(b.SignIns), "keys": len(b.APIKeys), "usage_rows": len(b.Usage), "mails": len(b.Mail)}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}
