package consent

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"
	"time"
	"weak"

	store "github.com/sendara/console/models/store"
)

// erasureKeys caches each open database's erasure key. It is keyed weakly
// and the entry goes with its DB, so databases opened and dropped (tests,
// tools) do not pile up here.
var erasureKeys sync.Map

// ErasureKey is the key identifiers are hashed with on the suppression
// list of erased people and in legal holds: an HMAC-SHA256 of a fixed label
// under the server secret, so nobody without the database's secret can
// test a phone number against the list, and the secret serves each
// purpose under its own key. It is cached because ServerSecret writes and
// the suppression check is the sending pipeline's hot path; the secret
// never changes once created.
func (db *ConsentStore) ErasureKey(ctx context.Context) ([]byte, error) {
	wp := weak.Make(db)
	if k, ok := erasureKeys.Load(wp); ok {
		return k.([]byte), nil
	}
	secret, err := db.ServerSecret(ctx)
	if err != nil {
		return nil, err
	}
	key := erasureKeyFrom(secret)
	if _, loaded := erasureKeys.LoadOrStore(wp, key); !loaded {
		runtime.AddCleanup(db, func(wp weak.Pointer[ConsentStore]) { erasureKeys.Delete(wp) }, wp)
	}
	return key, nil
}

// erasureKeyFrom derives the erased-list key from the server secret.
func erasureKeyFrom(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("sendara/erased-identifiers/v1"))
	return m.Sum(nil)
}

// IdentifierHash is the keyed hash of a normalized identifier at one
// customer: the same person erased at two customers leaves hashes that
// cannot be linked to each other.
func IdentifierHash(key []byte, customerID, value string) string {
	return hex.EncodeToString(identifierMAC(key, customerID, value))
}

// identifierMAC is identifierHash's bytes, which the suppression index
// keeps (cut short) instead of identifiers.
func identifierMAC(key []byte, customerID, value string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(customerID))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// ErasedIdentifier is one identifier of an erased person on a customer's
// suppression list: only its keyed hash, the reason and since when.
type ErasedIdentifier struct {
	CustomerID string `gorm:"primaryKey"`
	Hash       string `gorm:"primaryKey"`
	Reason     string
	Since      time.Time
	RequestID  string
}

// erasedSuppressions answers the suppression check for identifiers no
// contact of customerID has: those on the erased list are suppressed for
// erasure. One indexed query for all of them.
func (db *ConsentStore) erasedSuppressions(ctx context.Context, customerID string, values []string) (map[string]Suppression, error) {
	out := map[string]Suppression{}
	if len(values) == 0 {
		return out, nil
	}
	key, err := db.ErasureKey(ctx)
	if err != nil {
		return nil, err
	}
	byHash := make(map[string]string, len(values))
	hashes := make([]string, 0, len(values))
	for _, v := range values {
		for _, spelling := range store.SpellingsOf(v) {
			h := IdentifierHash(key, customerID, spelling)
			byHash[h] = v
			hashes = append(hashes, h)
		}
	}
	var rows []ErasedIdentifier
	q := db.Gorm.WithContext(ctx).Select("hash", "reason", "since")
	if len(hashes) == 1 {
		q = q.Where("customer_id = ? AND hash = ?", customerID, hashes[0])
	} else {
		q = q.Where("customer_id = ? AND hash IN ?", customerID, hashes)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("check erased identifiers: %w", err)
	}
	for _, r := range rows {
		since := r.Since.UTC()
		v := byHash[r.Hash]
		out[v] = Suppression{To: v, Suppressed: true, Reason: r.Reason, Since: &since}
	}
	return out, nil
}
