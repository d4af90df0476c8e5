package models

import (
	accounts "github.com/sendara/console/models/accounts"
	fulfilment "github.com/sendara/console/models/fulfilment"

	requests "github.com/sendara/console/models/requests"

	"context"
	"fmt"

	store "github.com/sendara/console/models/store"
)

// SealSecrets seals, under the current key, every secret still in clear
// (written before sealing began) or sealed with an older key (before a
// rotation). It returns how many it sealed; run it at start.
func (db *DB) SealSecrets(ctx context.Context) (int, error) {
	if db.Keys == nil {
		return 0, store.ErrNoKeyring
	}
	n := 0
	err := db.Tx(ctx, store.SystemActor("secret sealing"), func(tx *store.Tx) error {
		var users []accounts.User
		if err := tx.G.Select("id", "totp_secret").Where("totp_secret <> ''").Find(&users).Error; err != nil {
			return fmt.Errorf("read TOTP secrets: %w", err)
		}
		for _, u := range users {
			if db.Keys.SealedWithCurrent(u.TOTPSecret) {
				continue
			}
			plain, err := db.Keys.Open(store.TotpLabel(u.ID), u.TOTPSecret)
			if err != nil {
				return err
			}
			sealed, err := db.Keys.Seal(store.TotpLabel(u.ID), plain)
			if err != nil {
				return err
			}
			if err := tx.G.Model(&accounts.User{}).Where("id = ?", u.ID).Update("totp_secret", sealed).Error; err != nil {
				return fmt.Errorf("seal TOTP secret: %w", err)
			}
			n++
		}
		var s store.Setting
		if err := tx.G.Where("key = ?", "server_secret").Limit(1).Find(&s).Error; err != nil {
			return fmt.Errorf("read server secret: %w", err)
		}
		if s.Key != "" && !db.Keys.SealedWithCurrent(s.Value) {
			plain, err := db.Keys.Open(store.ServerSecretLabel, s.Value)
			if err != nil {
				return err
			}
			sealed, err := db.Keys.Seal(store.ServerSecretLabel, plain)
			if err != nil {
				return err
			}
			if err := tx.G.Model(&store.Setting{}).Where("key = ?", "server_secret").Update("value", sealed).Error; err != nil {
				return fmt.Errorf("seal server secret: %w", err)
			}
			n++
		}
		// Proofs of authority of open requests, one file at a time.
		var proofIDs []string
		if err := tx.G.Model(&requests.RequestProof{}).Where("data <> '' AND data NOT LIKE ?", store.SealedPrefix+db.Keys.Current+":%").
			Pluck("id", &proofIDs).Error; err != nil {
			return fmt.Errorf("read proofs of authority: %w", err)
		}
		for _, id := range proofIDs {
			var p requests.RequestProof
			if err := tx.G.Select("id", "data").First(&p, "id = ?", id).Error; err != nil {
				return fmt.Errorf("read proof of authority: %w", err)
			}
			plain, err := db.Keys.Open(requests.ProofLabel(id), p.Data)
			if err != nil {
				return err
			}
			sealed, err := db.Keys.Seal(requests.ProofLabel(id), plain)
			if err != nil {
				return err
			}
			if err := tx.G.Model(&requests.RequestProof{}).Where("id = ?", id).Update("data", sealed).Error; err != nil {
				return fmt.Errorf("seal proof of authority: %w", err)
			}
			n++
		}
		// Attachments of messages with requesters (requester_messages.go).
		resealed, err := fulfilment.ResealMessageFiles(tx, db.Keys)
		if err != nil {
			return err
		}
		n += resealed
		if n > 0 {
			tx.Audit(store.Audit{Action: "secrets.seal", ObjectType: "settings", Details: map[string]any{"sealed": n, "key": db.Keys.Current}})
		}
		return nil
	})
	return n, err
}
