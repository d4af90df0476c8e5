package consent

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	store "github.com/sendara/console/models/store"
	"gorm.io/gorm/clause"
)

// ErasureKeyIn is the erased list's key read through the transaction,
// creating the server secret when none exists yet (as ServerSecret does,
// first writer wins).
func ErasureKeyIn(t *store.Tx) ([]byte, error) {
	secret, err := store.ServerSecretIn(t.G, t.Keys)
	if err != nil {
		return nil, err
	}
	if secret == nil {
		if t.Keys == nil {
			return nil, store.ErrNoKeyring
		}
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		sealed, err := t.Keys.Seal(store.ServerSecretLabel, hex.EncodeToString(b))
		if err != nil {
			return nil, err
		}
		if err := t.G.Clauses(clause.OnConflict{DoNothing: true}).Create(&store.Setting{Key: "server_secret", Value: sealed}).Error; err != nil {
			return nil, fmt.Errorf("create server secret: %w", err)
		}
		if secret, err = store.ServerSecretIn(t.G, t.Keys); err != nil {
			return nil, err
		}
		if secret == nil {
			return nil, fmt.Errorf("server secret vanished")
		}
	}
	return erasureKeyFrom(secret), nil
}

// AddSuppressedHashes puts the keyed hashes of values on customerID's
// suppression list for reason; hashes already there keep their first date
// and reason, except that an erasure replaces any other reason.
func AddSuppressedHashes(t *store.Tx, key []byte, customerID string, values []string, requestID, reason string, at time.Time) (int64, error) {
	onConflict := clause.OnConflict{DoNothing: true}
	if reason == ReasonErasure {
		onConflict = clause.OnConflict{Columns: []clause.Column{{Name: "customer_id"}, {Name: "hash"}},
			DoUpdates: clause.Assignments(map[string]any{"reason": ReasonErasure, "request_id": requestID}),
			Where:     clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "erased_identifiers.reason <> ?", Vars: []any{ReasonErasure}}}}}
	}
	var added int64
	for part := range slices.Chunk(store.Dedupe(values), 500) {
		rows := make([]ErasedIdentifier, len(part))
		for i, v := range part {
			rows[i] = ErasedIdentifier{CustomerID: customerID, Hash: IdentifierHash(key, customerID, v), Reason: reason,
				Since: at, RequestID: requestID}
		}
		res := t.G.Clauses(onConflict).Create(&rows)
		if res.Error != nil {
			return 0, fmt.Errorf("add to the suppression list: %w", res.Error)
		}
		added += res.RowsAffected
	}
	return added, nil
}
