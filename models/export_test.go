package models

import "context"

// CheckSuppressionInDB is the database's own answer, bypassing the index:
// tests compare the two.
func (db *DB) CheckSuppressionInDB(ctx context.Context, customerID string, id Identifier, channel string) (Suppression, error) {
	return db.checkSuppression(ctx, customerID, id, channel)
}

// IndexAnswers says whether the suppression index answers for the value
// itself (false: it defers to the database).
func (db *DB) IndexAnswers(customerID, value, channel string) bool {
	ix := db.index()
	if ix == nil {
		return false
	}
	_, ok := ix.check(customerID, value, channel)
	return ok
}
