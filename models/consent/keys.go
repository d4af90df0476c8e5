package consent

import (
	accounts "github.com/sendara/console/models/accounts"
	customers "github.com/sendara/console/models/customers"

	"context"
	"errors"
	"fmt"
	"strings"

	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// AuthenticateKey finds the live key for a secret and notes its use.
func (db *ConsentStore) AuthenticateKey(ctx context.Context, secret string) (*accounts.APIKey, error) {
	if !strings.HasPrefix(secret, accounts.CustomerKeyPrefix) && !strings.HasPrefix(secret, accounts.StaffKeyPrefix) {
		return nil, accounts.ErrBadKey
	}
	hash := store.HashToken(secret)
	ix := db.index()
	var gen uint64
	if ix != nil {
		k, g, ok := ix.apiKey(hash)
		if ok {
			return db.LiveKey(ctx, &k)
		}
		gen = g
	}
	var k accounts.APIKey
	err := db.Gorm.WithContext(ctx).First(&k, "secret_hash = ? AND revoked_at IS NULL", hash).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, accounts.ErrBadKey
	} else if err != nil {
		// The database cannot be asked: a key the index holds still works
		// for as long as its checks are answered from memory.
		if ix != nil && ctx.Err() == nil {
			if cached, ok, serr := ix.staleKey(hash); serr != nil {
				return nil, serr
			} else if ok {
				return db.LiveKey(ctx, &cached)
			}
		}
		return nil, fmt.Errorf("look up API key: %w", err)
	}
	if k.CustomerID != nil {
		var c customers.Customer
		if err := db.Gorm.WithContext(ctx).Select("status").First(&c, "id = ?", *k.CustomerID).Error; err != nil || c.Status != customers.CustomerActive {
			return nil, accounts.ErrBadKey
		}
	}
	if ix != nil {
		ix.keepKey(hash, k, gen)
	}
	return db.LiveKey(ctx, &k)
}
