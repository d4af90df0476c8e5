package models

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

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

// ProbeWrite writes one small row (the time of the probe, in settings),
// for readiness: a database that answers reads but cannot write (a full
// disk, a read-only replica after a failover) cannot serve the console.
func (db *DB) ProbeWrite(ctx context.Context) error {
	err := db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}}, DoUpdates: clause.AssignmentColumns([]string{"value"})}).
		Create(&setting{Key: "readiness_probe", Value: Now().Format(time.RFC3339Nano)}).Error
	if err != nil {
		return fmt.Errorf("write probe: %w", err)
	}
	return nil
}
