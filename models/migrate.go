package models

import (
	"context"
	"log/slog"

	consent "github.com/sendara/console/models/consent"
	store "github.com/sendara/console/models/store"
)

// Migrate opens nothing and applies pending migrations to db, then the
// one-time data steps that need Go (RenormalizeEmails): the one call
// serve, migrate and the tests share.
func Migrate(ctx context.Context, db *DB, log *slog.Logger) error {
	m, err := store.NewMigrator(db.DB)
	if err != nil {
		return err
	}
	if err := m.Up(ctx, log); err != nil {
		return err
	}
	return consent.RenormalizeEmails(ctx, db.ConsentStore, log)
}
