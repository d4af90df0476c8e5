package models

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

type setting struct {
	Key   string `gorm:"primaryKey"`
	Value string
}

func (setting) TableName() string { return "settings" }

// ServerSecret returns the key that signs CSRF tokens, creating it on first
// use. It lives in the database so every instance behind a load balancer,
// and every restart, shares it.
func (db *DB) ServerSecret(ctx context.Context) ([]byte, error) {
	const key = "server_secret"
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	g := db.Gorm.WithContext(ctx)
	// Two instances starting together both insert; the first wins and both read it.
	if err := g.Clauses(clause.OnConflict{DoNothing: true}).Create(&setting{Key: key, Value: hex.EncodeToString(b)}).Error; err != nil {
		return nil, fmt.Errorf("create server secret: %w", err)
	}
	var s setting
	if err := g.First(&s, "key = ?", key).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("server secret vanished")
		}
		return nil, fmt.Errorf("read server secret: %w", err)
	}
	return hex.DecodeString(s.Value)
}
