package requests

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	errs "github.com/sendara/console/models/errs"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// RequestDuplicate records that a request duplicates another.
type RequestDuplicate struct {
	RequestID   string `gorm:"primaryKey"`
	DuplicateOf string
	MergedAt    time.Time
	MergedBy    string
	Reason      string
}

// TableName is the duplicates table.
func (RequestDuplicate) TableName() string { return "request_duplicates" }

// NotDuplicate leaves out requests merged into another, where a figure
// must count each request once.
const NotDuplicate = "id NOT IN (SELECT request_id FROM request_duplicates)"

// MergeDuplicate marks request id as a duplicate of the request with
// reference into (request.merge on both, on both timelines). A request
// merged into another cannot take duplicates itself, and a request is
// merged once. Staff only.
func (db *RequestStore) MergeDuplicate(ctx context.Context, actor store.Actor, id, into, reason string) error {
	if !actor.Staff() {
		return store.ErrNotFound
	}
	into = strings.ToUpper(strings.TrimSpace(into))
	reason = strings.TrimSpace(reason)
	if into == "" {
		return errs.Invalid("into", "give the reference (PR-…) of the request this one duplicates")
	}
	if len(reason) > 1000 {
		return errs.Invalid("reason", "must be at most 1000 characters")
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		var target PrivacyRequest
		if err := tx.G.Take(&target, "reference = ?", into).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return errs.Invalid("into", "there is no request %s", into)
		} else if err != nil {
			return fmt.Errorf("find request %s: %w", into, err)
		}
		if target.ID == id {
			return errs.Invalid("into", "a request cannot duplicate itself")
		}
		var merged []RequestDuplicate
		if err := tx.G.Where("request_id IN ?", []string{id, target.ID}).Find(&merged).Error; err != nil {
			return fmt.Errorf("read merged requests: %w", err)
		}
		for _, m := range merged {
			if m.RequestID == id {
				return &errs.ConflictError{Field: "into", Message: "this request was merged into another already"}
			}
			return &errs.ConflictError{Field: "into", Message: into + " is itself a duplicate: merge into the request it was merged into"}
		}
		var n int64
		if err := tx.G.Model(&RequestDuplicate{}).Where("duplicate_of = ?", id).Count(&n).Error; err != nil {
			return fmt.Errorf("read merged requests: %w", err)
		}
		if n > 0 {
			return &errs.ConflictError{Field: "into", Message: "other requests were merged into this one: merge " + into + " into it instead"}
		}
		text := "Merged into " + target.Reference + " as a duplicate"
		if reason != "" {
			text += ": " + reason
		}
		dup, err := UpdateRequest(tx, id, "request.merge", func(r *PrivacyRequest) (string, map[string]any, error) {
			return text + ".", map[string]any{"into": target.Reference, "reason": reason}, nil
		})
		if err != nil {
			return err
		}
		if err := tx.G.Create(&RequestDuplicate{RequestID: id, DuplicateOf: target.ID, MergedAt: store.Now(), MergedBy: actor.Label, Reason: reason}).Error; err != nil {
			return fmt.Errorf("merge %s into %s: %w", dup.Reference, target.Reference, err)
		}
		if err := DeleteProofs(tx, dup); err != nil {
			return err
		}
		tx.Event(target.ID, "merge", dup.Reference+" merged into this request as a duplicate; its timeline stays on its own page.")
		tx.Audit(store.Audit{Action: "request.merge_into", ObjectType: "request", ObjectID: target.ID, CustomerID: store.DerefString(target.CustomerID),
			Details: map[string]any{"reference": target.Reference, "duplicate": dup.Reference}})
		return nil
	})
}

// Duplicates tells how a request stands in merges: the request it was
// merged into, if any, and the requests merged into it.
type Duplicates struct {
	Of     *DuplicateLink
	Merged []DuplicateLink
}

// DuplicateLink names a request on the other side of a merge.
type DuplicateLink struct {
	RequestID string
	Reference string
	MergedAt  time.Time
	MergedBy  string
	Reason    string
}

// DuplicatesOf returns the merges request id takes part in. Merges are
// staff's bookkeeping: a customer actor gets none.
func (db *RequestStore) DuplicatesOf(ctx context.Context, actor store.Actor, id string) (Duplicates, error) {
	var d Duplicates
	if !actor.Staff() || !store.ValidID(id) {
		return d, nil
	}
	var links []struct {
		DuplicateLink
		IsOf bool
	}
	err := db.Gorm.WithContext(ctx).Raw(`
		SELECT r.id AS request_id, r.reference, d.merged_at, d.merged_by, d.reason, TRUE AS is_of
		  FROM request_duplicates d JOIN privacy_requests r ON r.id = d.duplicate_of WHERE d.request_id = ?
		UNION ALL
		SELECT r.id, r.reference, d.merged_at, d.merged_by, d.reason, FALSE
		  FROM request_duplicates d JOIN privacy_requests r ON r.id = d.request_id WHERE d.duplicate_of = ?
		ORDER BY merged_at`, id, id).Scan(&links).Error
	if err != nil {
		return d, fmt.Errorf("read merges of a request: %w", err)
	}
	for _, l := range links {
		if l.IsOf {
			d.Of = &l.DuplicateLink
		} else {
			d.Merged = append(d.Merged, l.DuplicateLink)
		}
	}
	return d, nil
}
