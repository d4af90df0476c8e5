package models

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm/clause"
)

// erasureKeyIn is the erased list's key read through the transaction,
// creating the server secret when none exists yet (as ServerSecret does,
// first writer wins).
func (t *Tx) erasureKeyIn() ([]byte, error) {
	secret, err := serverSecretIn(t.G, t.keys)
	if err != nil {
		return nil, err
	}
	if secret == nil {
		if t.keys == nil {
			return nil, ErrNoKeyring
		}
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		sealed, err := t.keys.seal(serverSecretLabel, hex.EncodeToString(b))
		if err != nil {
			return nil, err
		}
		if err := t.G.Clauses(clause.OnConflict{DoNothing: true}).Create(&setting{Key: "server_secret", Value: sealed}).Error; err != nil {
			return nil, fmt.Errorf("create server secret: %w", err)
		}
		if secret, err = serverSecretIn(t.G, t.keys); err != nil {
			return nil, err
		}
		if secret == nil {
			return nil, fmt.Errorf("server secret vanished")
		}
	}
	return erasureKeyFrom(secret), nil
}

// addToStopList keeps a stop request's identifiers, as keyed hashes, on
// the suppression list of each customer that held the person at intake
// (reason objection, restriction or opt_out, since the request's receipt),
// so a contact created there later for any of them, by a CRM import or an
// API call, arrives opted out, as it would have been had it existed at
// intake (suppressErased). An identifier erased there already stays
// erased.
func (t *Tx) addToStopList(r *PrivacyRequest, reason string, matches []PersonMatch) (int64, error) {
	if len(matches) == 0 {
		return 0, nil
	}
	key, err := t.erasureKeyIn()
	if err != nil {
		return 0, err
	}
	var added int64
	for _, m := range matches {
		n, err := t.addSuppressedHashes(key, m.CustomerID, r.Identifiers(), r.ID, reason, r.ReceivedAt)
		if err != nil {
			return 0, err
		}
		added += n
	}
	return added, nil
}

// addSuppressedHashes puts the keyed hashes of values on customerID's
// suppression list for reason; hashes already there keep their first date
// and reason, except that an erasure replaces any other reason.
func (t *Tx) addSuppressedHashes(key []byte, customerID string, values []string, requestID, reason string, at time.Time) (int64, error) {
	onConflict := clause.OnConflict{DoNothing: true}
	if reason == ReasonErasure {
		onConflict = clause.OnConflict{Columns: []clause.Column{{Name: "customer_id"}, {Name: "hash"}},
			DoUpdates: clause.Assignments(map[string]any{"reason": ReasonErasure, "request_id": requestID}),
			Where:     clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "erased_identifiers.reason <> ?", Vars: []any{ReasonErasure}}}}}
	}
	var added int64
	for part := range slices.Chunk(dedupe(values), 500) {
		rows := make([]ErasedIdentifier, len(part))
		for i, v := range part {
			rows[i] = ErasedIdentifier{CustomerID: customerID, Hash: identifierHash(key, customerID, v), Reason: reason,
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
