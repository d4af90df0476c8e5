package consent

import (
	"fmt"

	store "github.com/sendara/console/models/store"
)

// ImportedKeys reports which idempotency keys the ledger already holds.
func ImportedKeys(t *store.Tx, customerID string, keys []string) (map[string]bool, error) {
	seen := map[string]bool{}
	for _, part := range store.Chunk(keys, 500) {
		var found []string
		// "IS NOT NULL" states the partial index's predicate outright.
		if err := t.G.Model(&ConsentEvent{}).Where("customer_id = ? AND idempotency_key IS NOT NULL AND idempotency_key IN ?", customerID, part).
			Pluck("idempotency_key", &found).Error; err != nil {
			return nil, fmt.Errorf("check imported rows: %w", err)
		}
		for _, k := range found {
			seen[k] = true
		}
	}
	return seen, nil
}
