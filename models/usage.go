package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// UsageKey identifies one API usage counter: a key, an hour, a kind of call.
type UsageKey struct {
	KeyID string
	Hour  time.Time
	Kind  string
}

type apiUsage struct {
	KeyID string    `gorm:"primaryKey"`
	Hour  time.Time `gorm:"primaryKey"`
	Kind  string    `gorm:"primaryKey"`
	Count int64
}

func (apiUsage) TableName() string { return "api_usage" }

// AddUsage adds counted calls to the per-key, per-hour totals.
func (db *DB) AddUsage(ctx context.Context, counts map[UsageKey]int64) error {
	rows := make([]apiUsage, 0, len(counts))
	for k, n := range counts {
		rows = append(rows, apiUsage{KeyID: k.KeyID, Hour: k.Hour.UTC(), Kind: k.Kind, Count: n})
	}
	err := db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "key_id"}, {Name: "hour"}, {Name: "kind"}},
		DoUpdates: clause.Assignments(map[string]any{"count": gorm.Expr("api_usage.count + excluded.count")}),
	}).Create(&rows).Error
	if err != nil {
		return fmt.Errorf("record API usage: %w", err)
	}
	return nil
}

// Usage returns a key's counted calls of kind since the given hour.
func (db *DB) Usage(ctx context.Context, keyID, kind string, since time.Time) (int64, error) {
	var n int64
	err := db.Gorm.WithContext(ctx).Model(&apiUsage{}).Where("key_id = ? AND kind = ? AND hour >= ?", keyID, kind, since.UTC().Truncate(time.Hour)).
		Select("COALESCE(SUM(count), 0)").Scan(&n).Error
	return n, err
}
