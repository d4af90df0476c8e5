package accounts

import (
	customers "github.com/sendara/console/models/customers"
	errs "github.com/sendara/console/models/errs"

	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// APIKey lets a CRM or workflow tool call the JSON API: a customer key
// acts in its own tenant only, a staff key (CustomerID nil) for Sendara.
// Only a hash of the secret is stored; the secret is shown once.
type APIKey struct {
	ID         string `gorm:"primaryKey"`
	CustomerID *string
	Name       string
	Prefix     string // the secret's first characters, to tell keys apart
	SecretHash string
	CreatedBy  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	// Scope limits what the key may call (ScopeCheck, ScopeWrite, ScopeAdmin).
	Scope string
	// ExpiresAt, if set, is when the key stops working (a rotated key's
	// end of overlap).
	ExpiresAt *time.Time
	// RotatedFrom is the key this one replaced, if it was made by rotation.
	RotatedFrom *string
}

// API key scopes, narrowest first.
const (
	// ScopeCheck may only ask the suppression checks: the key the sending
	// pipeline holds, which cannot read or change contacts if it leaks.
	ScopeCheck = "check"
	// ScopeWrite may read and change contacts and consent (a CRM sync).
	ScopeWrite = "write"
	// ScopeAdmin may do everything the key's role allows.
	ScopeAdmin = "admin"
)

// APIKeyScopes lists the scopes in the order the form offers them.
var APIKeyScopes = []string{ScopeCheck, ScopeWrite, ScopeAdmin}

// Permits reports whether the key's scope allows a call needing action on
// object; suppressionCheck marks the suppression checks. The key's role
// is checked besides (Role).
func (k *APIKey) Permits(object, action string, suppressionCheck bool) bool {
	switch k.Scope {
	case ScopeCheck:
		return suppressionCheck
	case ScopeWrite:
		return object == "contacts" && (action == "read" || action == "write")
	case ScopeAdmin:
		return true
	}
	return false
}

// Expired reports whether the key has expired at now.
func (k *APIKey) Expired(now time.Time) bool { return k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) }

// Tenant is the key's customer id, empty for a staff key.
func (k *APIKey) Tenant() string {
	if k.CustomerID == nil {
		return ""
	}
	return *k.CustomerID
}

// Role is the role a key acts with: a customer key as its customer's
// admin, a staff key as a privacy officer. Keys never manage users or keys.
func (k *APIKey) Role() Role {
	if k.CustomerID == nil {
		return RolePrivacyOfficer
	}
	return RoleCustomerAdmin
}

// Actor is the key acting from ip.
func (k *APIKey) Actor(ip string) store.Actor {
	if k.CustomerID == nil {
		return store.StaffKey(k.ID, k.Name, ip)
	}
	return store.CustomerKey(k.ID, k.Name, *k.CustomerID, ip)
}

// Key secrets start with a readable type marker so a leaked key is easy to
// recognise in logs and by secret scanners.
const (
	CustomerKeyPrefix = "spc_live_"
	StaffKeyPrefix    = "spc_staff_"
)

// CreateAPIKey issues a key for customerID (empty: a staff key, which only
// staff may create) and returns it with its secret. The key has the admin
// scope and no expiry (the command line's key); see CreateAPIKeyWith.
func (db *AccountStore) CreateAPIKey(ctx context.Context, actor store.Actor, customerID, name string) (*APIKey, string, error) {
	return db.CreateAPIKeyWith(ctx, actor, APIKeyInput{CustomerID: customerID, Name: name, Scope: ScopeAdmin})
}

// APIKeyInput describes a new key.
type APIKeyInput struct {
	CustomerID string // empty: a staff key
	Name       string
	Scope      string
	ExpiresAt  *time.Time // nil: never
	// rotatedFrom is set by RotateAPIKey.
	rotatedFrom string
}

// CreateAPIKeyWith issues a key as in describes and returns it with its
// secret.
func (db *AccountStore) CreateAPIKeyWith(ctx context.Context, actor store.Actor, in APIKeyInput) (*APIKey, string, error) {
	var k *APIKey
	var secret string
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		var err error
		k, secret, err = createAPIKey(tx, in)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

func createAPIKey(tx *store.Tx, in APIKeyInput) (*APIKey, string, error) {
	actor, customerID, name := tx.Actor, in.CustomerID, strings.TrimSpace(in.Name)
	if len(name) > 100 {
		return nil, "", errs.Invalid("name", "must be at most 100 characters")
	}
	if !slices.Contains(APIKeyScopes, in.Scope) {
		return nil, "", errs.Invalid("scope", "must be check, write or admin")
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(store.Now()) {
		return nil, "", errs.Invalid("expires_on", "must be in the future")
	}
	if (!actor.Staff() && customerID != actor.CustomerID) || (customerID != "" && !store.ValidID(customerID)) {
		return nil, "", errs.Invalid("customer", "no such customer")
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	prefix := StaffKeyPrefix
	if customerID != "" {
		prefix = CustomerKeyPrefix
	}
	secret := prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	if name == "" {
		name = "key " + secret[len(prefix):len(prefix)+6]
	}
	k := &APIKey{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Prefix: secret[:len(prefix)+6],
		SecretHash: store.HashToken(secret), CreatedBy: actor.Label, CreatedAt: store.Now(), Scope: in.Scope, ExpiresAt: in.ExpiresAt,
		RotatedFrom: store.NullIfEmpty(in.rotatedFrom)}
	if customerID != "" {
		var c customers.Customer
		if err := tx.G.Scopes(actor.Tenant("id")).First(&c, "id = ?", customerID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil, "", errs.Invalid("customer", "no such customer")
			}
			return nil, "", err
		}
		if c.Status != customers.CustomerActive {
			return nil, "", errs.Invalid("customer", "customer %s is %s", c.Slug, c.Status)
		}
		k.CustomerID = &c.ID
	}
	if err := tx.G.Create(k).Error; err != nil {
		return nil, "", fmt.Errorf("create API key: %w", err)
	}
	details := map[string]any{"name": k.Name, "prefix": k.Prefix, "staff": customerID == "", "scope": k.Scope, "rotated_from": in.rotatedFrom}
	if k.ExpiresAt != nil {
		details["expires_at"] = k.ExpiresAt.Format(time.RFC3339)
	}
	tx.Audit(store.Audit{Action: "apikey.create", ObjectType: "api_key", ObjectID: k.ID, CustomerID: customerID, Details: details})
	return k, secret, nil
}

// RotateAPIKey issues a key to replace id, with its customer, name, scope
// and lifetime, and makes id expire after overlap: both work meanwhile, so
// the integration can switch without a failed call (apikey.rotate).
func (db *AccountStore) RotateAPIKey(ctx context.Context, actor store.Actor, id string, overlap time.Duration) (*APIKey, string, error) {
	if !store.ValidID(id) {
		return nil, "", store.ErrNotFound
	}
	var k *APIKey
	var secret string
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		var old APIKey
		if err := tx.G.Scopes(actor.Tenant("customer_id")).First(&old, "id = ?", id).Error; err != nil {
			return store.NotFound(err)
		}
		now := store.Now()
		if old.RevokedAt != nil || old.Expired(now) {
			return &errs.ConflictError{Field: "key", Message: "this key no longer works: create a new one instead"}
		}
		in := APIKeyInput{CustomerID: old.Tenant(), Name: old.Name, Scope: old.Scope, rotatedFrom: old.ID}
		if old.ExpiresAt != nil {
			until := now.Add(old.ExpiresAt.Sub(old.CreatedAt))
			in.ExpiresAt = &until
		}
		var err error
		if k, secret, err = createAPIKey(tx, in); err != nil {
			return err
		}
		end := now.Add(overlap)
		if old.ExpiresAt != nil && old.ExpiresAt.Before(end) {
			end = *old.ExpiresAt
		}
		if err := tx.G.Model(&old).Update("expires_at", end).Error; err != nil {
			return fmt.Errorf("end the old key's overlap: %w", err)
		}
		tx.Audit(store.Audit{Action: "apikey.rotate", ObjectType: "api_key", ObjectID: old.ID, CustomerID: old.Tenant(),
			Details: map[string]any{"name": old.Name, "prefix": old.Prefix, "new_key": k.ID, "old_key_expires_at": end.Format(time.RFC3339)}})
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// APIKeyOverlap is how long a rotated key keeps working beside its
// replacement.
const APIKeyOverlap = 7 * 24 * time.Hour

// APIKeys lists the keys the actor may see, newest first.
func (db *AccountStore) APIKeys(ctx context.Context, actor store.Actor) ([]APIKey, error) {
	var ks []APIKey
	if err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).Order("created_at DESC").Find(&ks).Error; err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return ks, nil
}

// RevokeAPIKey stops a key from working, at once.
func (db *AccountStore) RevokeAPIKey(ctx context.Context, actor store.Actor, id string) error {
	if !store.ValidID(id) {
		return store.ErrNotFound
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		var k APIKey
		if err := tx.G.Scopes(actor.Tenant("customer_id")).First(&k, "id = ?", id).Error; err != nil {
			return store.NotFound(err)
		}
		if k.RevokedAt != nil {
			return nil
		}
		if err := tx.G.Model(&k).Update("revoked_at", store.Now()).Error; err != nil {
			return fmt.Errorf("revoke API key: %w", err)
		}
		tx.Audit(store.Audit{Action: "apikey.revoke", ObjectType: "api_key", ObjectID: k.ID, CustomerID: k.Tenant(),
			Details: map[string]any{"name": k.Name, "prefix": k.Prefix}})
		return nil
	})
}

// ErrBadKey is a missing, unknown, revoked or expired API key.
var ErrBadKey = errors.New("invalid, revoked or expired API key")

// LiveKey refuses an expired key and notes a live one's use.
func (db *AccountStore) LiveKey(ctx context.Context, k *APIKey) (*APIKey, error) {
	if k.Expired(store.Now()) {
		return nil, ErrBadKey
	}
	return db.touchKey(ctx, k)
}

// touchKey notes a key's use, at most once a minute per key and process.
func (db *AccountStore) touchKey(ctx context.Context, k *APIKey) (*APIKey, error) {
	now := store.Now()
	if last, ok := db.keyTouches.Load(k.ID); !ok || now.Sub(last.(time.Time)) > time.Minute {
		db.keyTouches.Store(k.ID, now)
		// Bookkeeping: a failed note (the database briefly unreachable)
		// must not fail the call it is about; the next minute tries again.
		if err := db.Gorm.WithContext(ctx).Model(k).Update("last_used_at", now).Error; err == nil {
			used := now // a copy, so now stays off the heap on the path that does not write
			k.LastUsedAt = &used
		}
	}
	return k, nil
}
