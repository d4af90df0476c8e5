package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

type Setting struct {
	Key   string `gorm:"primaryKey"`
	Value string
}

func (Setting) TableName() string { return "settings" }

// ServerSecret returns the key that signs CSRF tokens and keys the
// erased list's hashes, creating it on first use. It lives in the
// database, sealed with the keyring, so every instance behind a load
// balancer, and every restart, shares it.
func (db *DB) ServerSecret(ctx context.Context) ([]byte, error) {
	if db.Keys == nil {
		return nil, ErrNoKeyring
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	sealed, err := db.Keys.Seal(ServerSecretLabel, hex.EncodeToString(b))
	if err != nil {
		return nil, err
	}
	g := db.Gorm.WithContext(ctx)
	// Two instances starting together both insert; the first wins and both read it.
	if err := g.Clauses(clause.OnConflict{DoNothing: true}).Create(&Setting{Key: "server_secret", Value: sealed}).Error; err != nil {
		return nil, fmt.Errorf("create server secret: %w", err)
	}
	secret, err := ServerSecretIn(g, db.Keys)
	if err != nil {
		return nil, err
	}
	if secret == nil {
		return nil, fmt.Errorf("server secret vanished")
	}
	return secret, nil
}

// ServerSecretIn reads the server secret through g (a transaction's, when
// called inside one) and opens it with keys; nil when none was created yet.
func ServerSecretIn(g *gorm.DB, keys *Keyring) ([]byte, error) {
	var s Setting
	if err := g.Where("key = ?", "server_secret").Limit(1).Find(&s).Error; err != nil {
		return nil, fmt.Errorf("read server secret: %w", err)
	}
	if s.Value == "" {
		return nil, nil
	}
	plain, err := keys.Open(ServerSecretLabel, s.Value)
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(plain)
}

// ProbeWrite writes one small row (the time of the probe, in settings),
// for readiness: a database that answers reads but cannot write (a full
// disk, a read-only replica after a failover) cannot serve the console.
func (db *DB) ProbeWrite(ctx context.Context) error {
	// On SQLite a one-row write can still fit in the write-ahead log's
	// reused frames while a real transaction (tens of pages) no longer fits,
	// and the log needs room to grow to its checkpoint (about 4 MB). So the
	// disk's free room is part of the answer, not only the probe's write.
	if db.file != "" {
		if free, ok := freeBytes(filepath.Dir(db.file)); ok && free < MinFreeDiskSQLite {
			return fmt.Errorf("only %d KB free on the disk of %s: SQLite needs at least %d MB for its write-ahead log", free>>10, db.file, MinFreeDiskSQLite>>20)
		}
	}
	err := db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}}, DoUpdates: clause.AssignmentColumns([]string{"value"})}).
		Create(&Setting{Key: "readiness_probe", Value: Now().Format(time.RFC3339Nano)}).Error
	if err != nil {
		return fmt.Errorf("write probe: %w", err)
	}
	return nil
}

// MinFreeDiskSQLite is the free room below which a SQLite console reports
// itself unready: the write-ahead log grows to about 4 MB between
// checkpoints, and each opt-out adds about 100 KB to it.
const MinFreeDiskSQLite = 8 << 20
