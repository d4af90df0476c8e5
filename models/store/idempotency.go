package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// IdempotencyWindow is how long the JSON API replays the first answer to
// an Idempotency-Key.
const IdempotencyWindow = 24 * time.Hour

// abandonedClaim is how long a request may hold its key before a retry
// may take it over: longer than any API request runs, so only a crash
// between acting and answering leaves a claim this old.
const abandonedClaim = 2 * time.Minute

// IdempotentAnswer is the first answer the JSON API gave to one API key's
// Idempotency-Key. Status 0 means the request is still being answered.
type IdempotentAnswer struct {
	APIKeyID    string `gorm:"primaryKey;column:api_key_id"`
	Key         string `gorm:"primaryKey"`
	RequestHash string
	Status      int
	Body        string
	CreatedAt   time.Time
}

// TableName keeps GORM off its plural guess.
func (IdempotentAnswer) TableName() string { return "api_idempotency" }

// ClaimIdempotencyKey takes key for a request hashed requestHash by API key
// keyID. It returns claimed when the request is the key's first within
// the window (act, then SaveIdempotentAnswer or ReleaseIdempotencyKey);
// otherwise the earlier request's record, whose answer is to be replayed,
// or refused when the hashes differ or it is still being answered.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, keyID, key, requestHash string) (prior *IdempotentAnswer, claimed bool, err error) {
	now := Now().UTC()
	g := db.Gorm.WithContext(ctx)
	if err := g.Where("api_key_id = ? AND key = ? AND (created_at < ? OR (status = 0 AND created_at < ?))",
		keyID, key, now.Add(-IdempotencyWindow), now.Add(-abandonedClaim)).Delete(&IdempotentAnswer{}).Error; err != nil {
		return nil, false, fmt.Errorf("expire idempotency key: %w", err)
	}
	res := g.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&IdempotentAnswer{APIKeyID: keyID, Key: key, RequestHash: requestHash, CreatedAt: now})
	if res.Error != nil {
		return nil, false, fmt.Errorf("claim idempotency key: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil, true, nil
	}
	var rec IdempotentAnswer
	if err := g.Where("api_key_id = ? AND key = ?", keyID, key).First(&rec).Error; err != nil {
		return nil, false, fmt.Errorf("read idempotency key: %w", err)
	}
	return &rec, false, nil
}

// SaveIdempotentAnswer keeps the answer to a claimed key for replay.
func (db *DB) SaveIdempotentAnswer(ctx context.Context, keyID, key string, status int, body string) error {
	err := db.Gorm.WithContext(ctx).Model(&IdempotentAnswer{}).Where("api_key_id = ? AND key = ?", keyID, key).
		Updates(map[string]any{"status": status, "body": body}).Error
	if err != nil {
		return fmt.Errorf("save idempotent answer: %w", err)
	}
	return nil
}

// ReleaseIdempotencyKey gives a claimed key back when the request failed
// without a definite answer (a server error, a rate limit): its retry acts.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, keyID, key string) error {
	if err := db.Gorm.WithContext(ctx).Where("api_key_id = ? AND key = ? AND status = 0", keyID, key).Delete(&IdempotentAnswer{}).Error; err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// SweepIdempotencyKeys deletes answers older than the window: they hold
// what the API answered (identifiers among it), kept no longer than needed.
func (db *DB) SweepIdempotencyKeys(ctx context.Context) (int64, error) {
	res := db.Gorm.WithContext(ctx).Where("created_at < ?", Now().UTC().Add(-IdempotencyWindow)).Delete(&IdempotentAnswer{})
	if res.Error != nil {
		return 0, fmt.Errorf("sweep idempotency keys: %w", res.Error)
	}
	return res.RowsAffected, nil
}
