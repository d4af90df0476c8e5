package accounts

import (
	"context"
	"fmt"
	"time"

	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// UsageKey identifies one API usage counter: a key, an hour, a kind of call.
type UsageKey struct {
	KeyID string
	Hour  time.Time
	Kind  string
}

type APIUsage struct {
	KeyID string    `gorm:"primaryKey"`
	Hour  time.Time `gorm:"primaryKey"`
	Kind  string    `gorm:"primaryKey"`
	Count int64
}

func (APIUsage) TableName() string { return "api_usage" }

// AddUsage adds counted calls to the per-key, per-hour totals.
func (db *AccountStore) AddUsage(ctx context.Context, counts map[UsageKey]int64) error {
	rows := make([]APIUsage, 0, len(counts))
	for k, n := range counts {
		rows = append(rows, APIUsage{KeyID: k.KeyID, Hour: k.Hour.UTC(), Kind: k.Kind, Count: n})
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
func (db *AccountStore) Usage(ctx context.Context, keyID, kind string, since time.Time) (int64, error) {
	var n int64
	err := db.Gorm.WithContext(ctx).Model(&APIUsage{}).Where("key_id = ? AND kind = ? AND hour >= ?", keyID, kind, since.UTC().Truncate(time.Hour)).
		Select("COALESCE(SUM(count), 0)").Scan(&n).Error
	return n, err
}

// KeyDay is one key's counted calls on one day.
type KeyDay struct {
	Day    string // YYYY-MM-DD in the business time zone
	Checks int64  // suppression checks (each item of a batch counts)
	Calls  int64  // every other API call
}

// APIKeyUsage returns the actor's keys' calls per day since since, by key
// id, newest day first. Days are dates in loc; the counts are kept per
// hour, so a day is whole for any time zone on the hour.
func (db *AccountStore) APIKeyUsage(ctx context.Context, actor store.Actor, since time.Time, loc *time.Location) (map[string][]KeyDay, error) {
	var rows []APIUsage
	keys := db.Gorm.Model(&APIKey{}).Scopes(actor.Tenant("customer_id")).Select("id")
	if err := db.Gorm.WithContext(ctx).Where("key_id IN (?) AND hour >= ?", keys, since.UTC().Truncate(time.Hour)).
		Order("hour DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read API key usage: %w", err)
	}
	out := map[string][]KeyDay{}
	for _, r := range rows {
		day := r.Hour.In(loc).Format(time.DateOnly)
		days := out[r.KeyID]
		if len(days) == 0 || days[len(days)-1].Day != day {
			days = append(days, KeyDay{Day: day})
		}
		if r.Kind == UsageSuppressionCheck {
			days[len(days)-1].Checks += r.Count
		} else {
			days[len(days)-1].Calls += r.Count
		}
		out[r.KeyID] = days
	}
	return out, nil
}

// Usage kinds: suppression checks are counted per item; every other call
// once.
const (
	UsageSuppressionCheck = "suppression_check"
	UsageCall             = "call"
)
