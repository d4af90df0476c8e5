package consent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	store "github.com/sendara/console/models/store"
)

// CheckSuppressionInDB is the database's own answer, bypassing the index:
// tests compare the two.
func (db *ConsentStore) CheckSuppressionInDB(ctx context.Context, customerID string, id store.Identifier, channel string) (Suppression, error) {
	return db.checkSuppression(ctx, customerID, id, channel)
}

// IndexAnswers says whether the suppression index answers for the value
// itself (false: it defers to the database).
func (db *ConsentStore) IndexAnswers(customerID, value, channel string) bool {
	ix := db.index()
	if ix == nil {
		return false
	}
	_, ok := ix.check(customerID, value, channel)
	return ok
}

// LoadSuppressionIndex starts the index and reports how many identifiers
// (suppressed or opted in) it holds.
func (db *ConsentStore) LoadSuppressionIndex(ctx context.Context) (int, error) {
	if err := db.StartSuppressionIndex(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		return 0, err
	}
	ix := db.index()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := 0
	for _, t := range ix.tenants {
		n += len(t.states)
	}
	return n, nil
}

// DropSuppressionIndex forgets the index (its goroutine ends with its
// context).
func (db *ConsentStore) DropSuppressionIndex() { db.suppressions.Store(nil) }

// SweepSuppressionChanges deletes change-log rows past their retention.
func (db *ConsentStore) SweepSuppressionChanges(ctx context.Context) error {
	return db.index().sweep(ctx)
}

// FailSuppressionReplays makes the index's replays fail while fail is true.
func (db *ConsentStore) FailSuppressionReplays(fail func() bool) {
	ix := db.index()
	ix.replay.Lock()
	defer ix.replay.Unlock()
	ix.failApply = func() error {
		if fail() {
			return errors.New("replay failed on purpose")
		}
		return nil
	}
}

// ReplaySuppressionIndex runs one replay of the change log now.
func (db *ConsentStore) ReplaySuppressionIndex(ctx context.Context) error {
	return db.index().catchUp(ctx)
}

// AgeSuppressionIndex moves the index's last good replay d into the past.
func (db *ConsentStore) AgeSuppressionIndex(d time.Duration) {
	ix := db.index()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.lastGood = ix.lastGood.Add(-d)
}

// ErasedHash is the erased list's keyed hash of value at customerID, as an
// older console would have stored it for that spelling.
func (db *ConsentStore) ErasedHash(ctx context.Context, customerID, value string) (string, error) {
	key, err := db.ErasureKey(ctx)
	if err != nil {
		return "", err
	}
	return IdentifierHash(key, customerID, value), nil
}

// ForgetEmailNormalization removes the marker RenormalizeEmails leaves, as
// on a database last migrated by an older console.
func (db *ConsentStore) ForgetEmailNormalization(ctx context.Context) error {
	return db.Gorm.WithContext(ctx).Where("key = ?", emailsNormalizedKey).Delete(&store.Setting{}).Error
}
