package models

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
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
}

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
func (k *APIKey) Actor(ip string) Actor {
	if k.CustomerID == nil {
		return StaffKey(k.ID, k.Name, ip)
	}
	return CustomerKey(k.ID, k.Name, *k.CustomerID, ip)
}

// Key secrets start with a readable type marker so a leaked key is easy to
// recognise in logs and by secret scanners.
const (
	customerKeyPrefix = "spc_live_"
	staffKeyPrefix    = "spc_staff_"
)

// CreateAPIKey issues a key for customerID (empty: a staff key, which only
// staff may create) and returns it with its secret.
func (db *DB) CreateAPIKey(ctx context.Context, actor Actor, customerID, name string) (*APIKey, string, error) {
	name = strings.TrimSpace(name)
	if len(name) > 100 {
		return nil, "", Invalid("name", "must be at most 100 characters")
	}
	if (!actor.Staff() && customerID != actor.CustomerID) || (customerID != "" && !validID(customerID)) {
		return nil, "", Invalid("customer", "no such customer")
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	prefix := staffKeyPrefix
	if customerID != "" {
		prefix = customerKeyPrefix
	}
	secret := prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	if name == "" {
		name = "key " + secret[len(prefix):len(prefix)+6]
	}
	k := &APIKey{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Prefix: secret[:len(prefix)+6],
		SecretHash: hashToken(secret), CreatedBy: actor.Label, CreatedAt: Now()}
	err := db.Tx(ctx, actor, func(tx *Tx) error {
		if customerID != "" {
			var c Customer
			if err := tx.G.Scopes(actor.Tenant("id")).First(&c, "id = ?", customerID).Error; err != nil {
				if errors.Is(err, gorm.ErrRecordNotFound) {
					return Invalid("customer", "no such customer")
				}
				return err
			}
			if c.Status != CustomerActive {
				return Invalid("customer", "customer %s is %s", c.Slug, c.Status)
			}
			k.CustomerID = &c.ID
		}
		if err := tx.G.Create(k).Error; err != nil {
			return fmt.Errorf("create API key: %w", err)
		}
		tx.Audit(Audit{Action: "apikey.create", ObjectType: "api_key", ObjectID: k.ID, CustomerID: customerID,
			Details: map[string]any{"name": k.Name, "prefix": k.Prefix, "staff": customerID == ""}})
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// APIKeys lists the keys the actor may see, newest first.
func (db *DB) APIKeys(ctx context.Context, actor Actor) ([]APIKey, error) {
	var ks []APIKey
	if err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).Order("created_at DESC").Find(&ks).Error; err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return ks, nil
}

// RevokeAPIKey stops a key from working, at once.
func (db *DB) RevokeAPIKey(ctx context.Context, actor Actor, id string) error {
	if !validID(id) {
		return ErrNotFound
	}
	return db.Tx(ctx, actor, func(tx *Tx) error {
		var k APIKey
		if err := tx.G.Scopes(actor.Tenant("customer_id")).First(&k, "id = ?", id).Error; err != nil {
			return notFound(err)
		}
		if k.RevokedAt != nil {
			return nil
		}
		if err := tx.G.Model(&k).Update("revoked_at", Now()).Error; err != nil {
			return fmt.Errorf("revoke API key: %w", err)
		}
		tx.Audit(Audit{Action: "apikey.revoke", ObjectType: "api_key", ObjectID: k.ID, CustomerID: k.Tenant(),
			Details: map[string]any{"name": k.Name, "prefix": k.Prefix}})
		return nil
	})
}

// ErrBadKey is a missing, unknown or revoked API key.
var ErrBadKey = errors.New("invalid or revoked API key")

// AuthenticateKey finds the live key for a secret and notes its use.
func (db *DB) AuthenticateKey(ctx context.Context, secret string) (*APIKey, error) {
	if !strings.HasPrefix(secret, customerKeyPrefix) && !strings.HasPrefix(secret, staffKeyPrefix) {
		return nil, ErrBadKey
	}
	hash := hashToken(secret)
	ix := db.index()
	var gen uint64
	if ix != nil {
		k, g, ok := ix.apiKey(hash)
		if ok {
			return db.touchKey(ctx, &k)
		}
		gen = g
	}
	var k APIKey
	err := db.Gorm.WithContext(ctx).First(&k, "secret_hash = ? AND revoked_at IS NULL", hash).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrBadKey
	} else if err != nil {
		return nil, fmt.Errorf("look up API key: %w", err)
	}
	if k.CustomerID != nil {
		var c Customer
		if err := db.Gorm.WithContext(ctx).Select("status").First(&c, "id = ?", *k.CustomerID).Error; err != nil || c.Status != CustomerActive {
			return nil, ErrBadKey
		}
	}
	if ix != nil {
		ix.keepKey(hash, k, gen)
	}
	return db.touchKey(ctx, &k)
}

// touchKey notes a key's use, at most once a minute per key and process.
func (db *DB) touchKey(ctx context.Context, k *APIKey) (*APIKey, error) {
	now := Now()
	if last, ok := db.keyTouches.Load(k.ID); !ok || now.Sub(last.(time.Time)) > time.Minute {
		db.keyTouches.Store(k.ID, now)
		if err := db.Gorm.WithContext(ctx).Model(k).Update("last_used_at", now).Error; err != nil {
			return nil, fmt.Errorf("note API key use: %w", err)
		}
		k.LastUsedAt = &now
	}
	return k, nil
}
