package requests

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	errs "github.com/sendara/console/models/errs"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// MaxProofBytes bounds one uploaded proof of authority.
const MaxProofBytes = 5 << 20

// Kinds of proof an authorized agent or a parent shows.
const (
	ProofSignedPermission = "signed_permission"
	ProofPowerOfAttorney  = "power_of_attorney"
	ProofParenthood       = "proof_of_parenthood"
	ProofOtherDocument    = "other_document"
)

// ProofKinds lists the kinds of proof in the order forms offer them.
var ProofKinds = []string{ProofSignedPermission, ProofPowerOfAttorney, ProofParenthood, ProofOtherDocument}

// Outcomes of a proof check.
const (
	ProofAccepted = "accepted"
	ProofRejected = "rejected"
)

// proofTypes are the file types a proof may be, told by the file's
// content (never by its name or the browser's claim).
var proofTypes = []string{"application/pdf", "image/png", "image/jpeg"}

// RequestProof is an authorized agent's or a parent's proof of authority
// for one request: the file, sealed with the keyring while the request is
// open, and the check staff recorded. When the request closes the file is
// deleted and only its kind and the check remain.
type RequestProof struct {
	ID           string `gorm:"primaryKey"`
	RequestID    string
	Kind         string
	FileName     string
	ContentType  string
	Size         int64
	Data         string `json:"-"` // sealed; empty once deleted
	UploadedBy   string
	UploadedAt   time.Time
	CheckedBy    string
	CheckedAt    *time.Time
	CheckOutcome string
	CheckNote    string
	DeletedAt    *time.Time
}

// TableName keeps the table's name.
func (RequestProof) TableName() string { return "request_proofs" }

func ProofLabel(id string) string { return "request_proofs.data:" + id }

// NeedsProof reports whether the requester acts for someone else (an
// authorized agent or a parent), whose authority must be proven.
func (r *PrivacyRequest) NeedsProof() bool {
	return r.Relationship == "authorized_agent" || r.Relationship == "parent"
}

// proofStanding says why a request may not yet be routed or fulfilled for
// want of a checked proof of authority; "" when it may.
func proofStanding(g *gorm.DB, r *PrivacyRequest) (string, error) {
	if !r.NeedsProof() || strings.TrimSpace(r.ProofOverride) != "" {
		return "", nil
	}
	var n int64
	if err := g.Model(&RequestProof{}).Where("request_id = ? AND check_outcome = ?", r.ID, ProofAccepted).Count(&n).Error; err != nil {
		return "", fmt.Errorf("read proofs of authority: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	who := map[bool]string{true: "a parent", false: "an authorized agent"}[r.Relationship == "parent"]
	return "this request was made by " + who + ": upload their proof of authority and record its check (or record why the request proceeds without one) first", nil
}

// RequireProof refuses a step of an agent's or parent's request until
// their proof was checked and accepted, or staff recorded an override.
func RequireProof(g *gorm.DB, r *PrivacyRequest) error {
	why, err := proofStanding(g, r)
	if err != nil {
		return err
	}
	if why != "" {
		return &errs.ConflictError{Field: "proof", Message: why}
	}
	return nil
}

// ProofStanding is proofStanding for the case page: "" when the request may
// proceed.
func (db *RequestStore) ProofStanding(ctx context.Context, r *PrivacyRequest) (string, error) {
	return proofStanding(db.Gorm.WithContext(ctx), r)
}

// proofRequest loads an open request whose requester acts for someone else,
// for a change to its proofs. Staff only.
func proofRequest(t *store.Tx, id string) (*PrivacyRequest, error) {
	if !t.Actor.Staff() || !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var r PrivacyRequest
	if err := t.G.First(&r, "id = ?", id).Error; err != nil {
		return nil, store.NotFound(err)
	}
	if Closed(r.Status) {
		return nil, &errs.ConflictError{Field: "proof", Message: "the request is closed; its proofs of authority were deleted"}
	}
	if !r.NeedsProof() {
		return nil, errs.Invalid("proof", "the requester is not an authorized agent or a parent; no proof of authority is needed")
	}
	return &r, nil
}

// UploadProof stores an agent's or parent's proof of authority for an open
// request, sealed with the keyring: a PDF, PNG or JPEG (told by its
// content) of at most MaxProofBytes. Audited as request.proof_upload and
// noted on the timeline, without the file's name.
func (db *RequestStore) UploadProof(ctx context.Context, actor store.Actor, requestID, kind, fileName string, data []byte) (*RequestProof, error) {
	if !slices.Contains(ProofKinds, kind) {
		return nil, errs.Invalid("kind", "choose what kind of proof this is (%s)", strings.Join(ProofKinds, ", "))
	}
	if len(data) == 0 {
		return nil, errs.Invalid("file", "choose the file of the proof to upload")
	}
	if len(data) > MaxProofBytes {
		return nil, errs.Invalid("file", "the file is larger than %d MiB", MaxProofBytes>>20)
	}
	ctype := http.DetectContentType(data)
	if i := strings.IndexByte(ctype, ';'); i >= 0 {
		ctype = ctype[:i]
	}
	if !slices.Contains(proofTypes, ctype) {
		return nil, errs.Invalid("file", "a proof must be a PDF, PNG or JPEG file; this file's content is %s", ctype)
	}
	fileName = CleanFileName(fileName)
	var p *RequestProof
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		r, err := proofRequest(tx, requestID)
		if err != nil {
			return err
		}
		id := uuid.Must(uuid.NewV7()).String()
		sealed, err := tx.Keys.Seal(ProofLabel(id), string(data))
		if err != nil {
			return err
		}
		p = &RequestProof{ID: id, RequestID: r.ID, Kind: kind, FileName: fileName, ContentType: ctype, Size: int64(len(data)),
			Data: sealed, UploadedBy: actor.Label, UploadedAt: store.Now()}
		if err := tx.G.Create(p).Error; err != nil {
			return fmt.Errorf("store proof: %w", err)
		}
		tx.Event(r.ID, "proof_upload", fmt.Sprintf("Proof of authority uploaded (%s, %s, %d KB); it waits for a check.", ProofKindLabel(kind), ctype, (p.Size+1023)/1024))
		tx.Audit(store.Audit{Action: "request.proof_upload", ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
			Details: map[string]any{"reference": r.Reference, "proof": id, "kind": kind, "content_type": ctype, "size": p.Size}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.Data = ""
	return p, nil
}

// CleanFileName keeps a file name fit for a header and a page.
func CleanFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	if len(name) > 200 {
		name = name[:200]
	}
	if name == "" {
		name = "proof"
	}
	return name
}

// CheckProof records staff's check of a proof: who, when, the outcome
// (accepted or rejected, a rejection with its reason) and the kind of proof
// as they found it. Audited as request.proof_check.
func (db *RequestStore) CheckProof(ctx context.Context, actor store.Actor, requestID, proofID, kind, outcome, note string) error {
	note = strings.TrimSpace(note)
	if outcome != ProofAccepted && outcome != ProofRejected {
		return errs.Invalid("outcome", "say whether the proof is accepted or rejected")
	}
	if kind != "" && !slices.Contains(ProofKinds, kind) {
		return errs.Invalid("kind", "choose what kind of proof this is (%s)", strings.Join(ProofKinds, ", "))
	}
	if outcome == ProofRejected && note == "" {
		return errs.Invalid("note", "say why the proof is rejected")
	}
	if len(note) > 1000 {
		return errs.Invalid("note", "must be at most 1000 characters")
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		r, err := proofRequest(tx, requestID)
		if err != nil {
			return err
		}
		var p RequestProof
		if err := tx.G.First(&p, "id = ? AND request_id = ?", proofID, r.ID).Error; err != nil {
			return store.NotFound(err)
		}
		if p.CheckedAt != nil {
			return &errs.ConflictError{Field: "outcome", Message: "this proof was checked already by " + p.CheckedBy}
		}
		if kind == "" {
			kind = p.Kind
		}
		now := store.Now()
		if err := tx.G.Model(&RequestProof{}).Where("id = ?", p.ID).Updates(map[string]any{
			"kind": kind, "checked_by": actor.Label, "checked_at": now, "check_outcome": outcome, "check_note": note}).Error; err != nil {
			return fmt.Errorf("record the check: %w", err)
		}
		text := fmt.Sprintf("Proof of authority (%s) checked: %s.", ProofKindLabel(kind), outcome)
		if note != "" {
			text += " " + note
		}
		tx.Event(r.ID, "proof_check", text)
		tx.Audit(store.Audit{Action: "request.proof_check", ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
			Details: map[string]any{"reference": r.Reference, "proof": p.ID, "kind": kind, "outcome": outcome, "note": note}})
		return nil
	})
}

// OverrideProof lets an agent's or parent's request proceed without an
// accepted proof, for the reason staff record (timeline and audit log,
// request.proof_override).
func (db *RequestStore) OverrideProof(ctx context.Context, actor store.Actor, requestID, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return errs.Invalid("override", "say why the request proceeds without a checked proof of authority")
	}
	if len(reason) > 1000 {
		return errs.Invalid("override", "must be at most 1000 characters")
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		if _, err := proofRequest(tx, requestID); err != nil {
			return err
		}
		_, err := UpdateRequest(tx, requestID, "request.proof_override", func(r *PrivacyRequest) (string, map[string]any, error) {
			r.ProofOverride = reason
			return "Proceeds without a checked proof of authority: " + reason, map[string]any{"reason": reason}, nil
		})
		return err
	})
}

// Proofs lists a request's proofs of authority, without their files.
// Staff only.
func (db *RequestStore) Proofs(ctx context.Context, actor store.Actor, requestID string) ([]RequestProof, error) {
	if !actor.Staff() {
		return nil, nil
	}
	var ps []RequestProof
	if err := db.Gorm.WithContext(ctx).Omit("data").Where("request_id = ?", requestID).Order("uploaded_at, id").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("read proofs of authority: %w", err)
	}
	return ps, nil
}

// ProofFile opens a proof's file for staff to read; the download is
// audited (request.proof_download) before the file is returned. A deleted
// proof is ErrNotFound.
func (db *RequestStore) ProofFile(ctx context.Context, actor store.Actor, requestID, proofID string) (*RequestProof, []byte, error) {
	if !actor.Staff() || !store.ValidID(requestID) || !store.ValidID(proofID) {
		return nil, nil, store.ErrNotFound
	}
	var p RequestProof
	var data string
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		var r PrivacyRequest
		if err := tx.G.First(&r, "id = ?", requestID).Error; err != nil {
			return store.NotFound(err)
		}
		if err := tx.G.First(&p, "id = ? AND request_id = ?", proofID, r.ID).Error; err != nil {
			return store.NotFound(err)
		}
		if p.DeletedAt != nil || p.Data == "" {
			return store.ErrNotFound
		}
		var err error
		if data, err = tx.Keys.Open(ProofLabel(p.ID), p.Data); err != nil {
			return err
		}
		tx.Audit(store.Audit{Action: "request.proof_download", ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
			Details: map[string]any{"reference": r.Reference, "proof": p.ID, "kind": p.Kind}})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	p.Data = ""
	return &p, []byte(data), nil
}

// DeleteProofs deletes the files of a closing request's proofs, keeping
// only their kind and check (who, when, outcome).
func DeleteProofs(t *store.Tx, r *PrivacyRequest) error {
	res := t.G.Model(&RequestProof{}).Where("request_id = ? AND deleted_at IS NULL", r.ID).
		Updates(map[string]any{"data": "", "file_name": "", "content_type": "", "size": 0, "check_note": "", "deleted_at": store.Now()})
	if res.Error != nil {
		return fmt.Errorf("delete proofs of authority: %w", res.Error)
	}
	if res.RowsAffected > 0 {
		t.Event(r.ID, "proof_delete", fmt.Sprintf("The request is closed: %d proof file(s) of authority deleted; who checked them, when and what kind they were is kept.", res.RowsAffected))
		t.Audit(store.Audit{Action: "request.proof_delete", ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
			Details: map[string]any{"reference": r.Reference, "deleted": res.RowsAffected}})
	}
	return nil
}

// ProofKindLabel names a kind of proof for people.
func ProofKindLabel(kind string) string {
	switch kind {
	case ProofSignedPermission:
		return "signed permission"
	case ProofPowerOfAttorney:
		return "power of attorney"
	case ProofParenthood:
		return "proof of parenthood"
	case ProofOtherDocument:
		return "other document"
	}
	return strings.ReplaceAll(kind, "_", " ")
}
