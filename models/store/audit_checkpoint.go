package store

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/sendara/console/models/auditchain"
)

// AuditCheckpoint is a checkpoint as the audit_checkpoints side table
// keeps it, for the audit page.
type AuditCheckpoint struct {
	ID        int64 `gorm:"primaryKey"`
	Seq       int64
	Hash      string
	SignedAt  time.Time
	KeyID     string
	Signature string
}

// TableName keeps the table's name stable.
func (AuditCheckpoint) TableName() string { return "audit_checkpoints" }

// CheckpointAudit signs the chain's head with key and notes the checkpoint
// in audit_checkpoints. The caller keeps the signed line outside the
// database: that copy is the evidence.
func (db *DB) CheckpointAudit(ctx context.Context, key ed25519.PrivateKey) (auditchain.Checkpoint, error) {
	seq, hash, err := db.AuditHead(ctx)
	if err != nil {
		return auditchain.Checkpoint{}, err
	}
	now := Now().Truncate(time.Second)
	c := auditchain.Sign(key, seq, hash, now)
	row := AuditCheckpoint{Seq: c.Seq, Hash: c.Hash, SignedAt: now, KeyID: c.KeyID, Signature: c.Signature}
	if err := db.Gorm.WithContext(ctx).Create(&row).Error; err != nil {
		return c, fmt.Errorf("note audit checkpoint: %w", err)
	}
	return c, nil
}

// LastAuditCheckpoint returns the newest checkpoint noted, or nil.
func (db *DB) LastAuditCheckpoint(ctx context.Context) (*AuditCheckpoint, error) {
	var c AuditCheckpoint
	err := db.Gorm.WithContext(ctx).Order("id DESC").First(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read last audit checkpoint: %w", err)
	}
	return &c, nil
}

// CheckAuditCheckpoint reports whether the chain still holds c's hash at
// c's seq. Run it after VerifyAudit found the chain intact, so the stored
// hash is the one its entry hashes to. A chain that ends before c's seq was
// rolled back to an older copy (or cut); a different hash there means the
// chain was rewritten since c was signed.
func (db *DB) CheckAuditCheckpoint(ctx context.Context, c auditchain.Checkpoint) error {
	head, _, err := db.AuditHead(ctx)
	if err != nil {
		return err
	}
	if head < c.Seq {
		return fmt.Errorf("the chain ends at entry %d, before the checkpoint's entry %d: the database was rolled back to an older copy or entries were removed", head, c.Seq)
	}
	var hash []string
	if err := db.Gorm.WithContext(ctx).Model(&AuditEvent{}).Where("seq = ?", c.Seq).Pluck("hash", &hash).Error; err != nil {
		return fmt.Errorf("read audit entry %d: %w", c.Seq, err)
	}
	switch {
	case c.Seq == 0 && c.Hash == "":
		return nil
	case len(hash) == 0:
		return fmt.Errorf("entry %d of the checkpoint is not in the chain", c.Seq)
	case hash[0] != c.Hash:
		return fmt.Errorf("entry %d's hash is %.16s…, the checkpoint signed %.16s…: the chain was rewritten after the checkpoint", c.Seq, hash[0], c.Hash)
	}
	return nil
}
