package registers

import (
	calendar "github.com/sendara/console/models/calendar"
	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	outbox "github.com/sendara/console/models/outbox"

	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// Subprocessor is a company Sendara engages to process customers' data
// (GDPR Art. 28(2)). The current list is those not removed; removed ones
// stay as the list's history.
type Subprocessor struct {
	ID                string `gorm:"primaryKey"`
	Name              string
	Purpose           string
	Location          string
	TransferSafeguard string
	EffectiveOn       calendar.Date
	ObjectionUntil    calendar.Date
	RemovedOn         calendar.Date // zero while on the list
	CreatedBy         string
	CreatedAt         time.Time
}

// Current reports whether the sub-processor is on the list on day.
func (s Subprocessor) Current(day calendar.Date) bool {
	return !day.Before(s.EffectiveOn) && (s.RemovedOn.IsZero() || day.Before(s.RemovedOn))
}

// PolicyVersion is a version of the privacy policy and when it takes
// effect.
type PolicyVersion struct {
	ID          string `gorm:"primaryKey"`
	Version     string
	EffectiveOn calendar.Date
	Summary     string
	URL         string `gorm:"column:url"`
	CreatedBy   string
	CreatedAt   time.Time
}

// SubprocessorObjection is a customer's objection to a new sub-processor.
type SubprocessorObjection struct {
	CustomerID     string `gorm:"primaryKey"`
	ID             string `gorm:"primaryKey"`
	SubprocessorID string
	Reason         string
	CreatedBy      string
	CreatedAt      time.Time

	CustomerName     string `gorm:"-"`
	SubprocessorName string `gorm:"-"`
}

// DefaultObjectionDays is how long customers have to object to a new
// sub-processor unless staff admins set otherwise.
const DefaultObjectionDays = 30

// ObjectionDays is the objection window for new sub-processors, in days.
func (db *RegisterStore) ObjectionDays(ctx context.Context) (int, error) {
	return intSetting(db.Gorm.WithContext(ctx), "subprocessor_objection_days", DefaultObjectionDays)
}

// SetObjectionDays changes the objection window (1 to 180 days) for
// sub-processors added from now on, audited with before and after.
func (db *RegisterStore) SetObjectionDays(ctx context.Context, actor store.Actor, days int) error {
	if !actor.Staff() {
		return store.ErrNotFound
	}
	if days < 1 || days > 180 {
		return errs.Invalid("days", "must be between 1 and 180")
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		before, err := intSetting(tx.G, "subprocessor_objection_days", DefaultObjectionDays)
		if err != nil {
			return err
		}
		if err := setSetting(tx.G, "subprocessor_objection_days", strconv.Itoa(days)); err != nil {
			return err
		}
		tx.Audit(store.Audit{Action: "subprocessor.objection_days_change", ObjectType: "setting", ObjectID: "subprocessor_objection_days",
			Details: map[string]any{"before": before, "after": days}})
		return nil
	})
}

// SubprocessorInput is a new sub-processor.
type SubprocessorInput struct {
	Name, Purpose, Location, TransferSafeguard string
	EffectiveOn                                calendar.Date
}

func requiredText(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", errs.Invalid(field, "is required")
	}
	if len(v) > max {
		return "", errs.Invalid(field, "is longer than %d characters", max)
	}
	return v, nil
}

// AddSubprocessor puts a sub-processor on the list and mails every active
// customer's admins the change, its effective date and the last day to
// object. It cannot take effect before the objection window ends: the
// customers must have the chance to object first (Art. 28(2)). Staff only.
// It returns how many mails were queued.
func (db *RegisterStore) AddSubprocessor(ctx context.Context, actor store.Actor, in SubprocessorInput, today calendar.Date, baseURL string) (*Subprocessor, int, error) {
	if !actor.Staff() {
		return nil, 0, store.ErrNotFound
	}
	var err error
	if in.Name, err = requiredText("name", in.Name, 200); err != nil {
		return nil, 0, err
	}
	if in.Purpose, err = requiredText("purpose", in.Purpose, 1000); err != nil {
		return nil, 0, err
	}
	if in.Location, err = requiredText("location", in.Location, 200); err != nil {
		return nil, 0, err
	}
	if in.TransferSafeguard, err = requiredText("transfer_safeguard", in.TransferSafeguard, 1000); err != nil {
		return nil, 0, err
	}
	if in.EffectiveOn.IsZero() {
		return nil, 0, errs.Invalid("effective_on", "is required")
	}
	var sp *Subprocessor
	mails := 0
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		days, err := intSetting(tx.G, "subprocessor_objection_days", DefaultObjectionDays)
		if err != nil {
			return err
		}
		until := today.AddDays(days)
		if in.EffectiveOn.Before(until) {
			return errs.Invalid("effective_on", "must be %s or later: customers have %d days to object before a new sub-processor starts", until, days)
		}
		sp = &Subprocessor{ID: uuid.Must(uuid.NewV7()).String(), Name: in.Name, Purpose: in.Purpose, Location: in.Location,
			TransferSafeguard: in.TransferSafeguard, EffectiveOn: in.EffectiveOn, ObjectionUntil: until, CreatedBy: actor.Label, CreatedAt: store.Now()}
		if err := tx.G.Create(sp).Error; err != nil {
			return fmt.Errorf("add sub-processor: %w", err)
		}
		msg := fmt.Sprintf("New sub-processor: %s\nPurpose: %s\nLocation: %s\nTransfer safeguard: %s", sp.Name, sp.Purpose, sp.Location, sp.TransferSafeguard)
		if mails, err = mailEveryCustomer(tx, "new sub-processor "+sp.Name, sp.EffectiveOn, until, msg, baseURL); err != nil {
			return err
		}
		tx.Audit(store.Audit{Action: "subprocessor.add", ObjectType: "subprocessor", ObjectID: sp.ID,
			Details: map[string]any{"name": sp.Name, "effective_on": sp.EffectiveOn.String(), "objection_until": until.String(), "mails": mails}})
		return nil
	})
	return sp, mails, err
}

// mailEveryCustomer queues the processor_change mail to the admins and
// privacy contact of every active customer.
func mailEveryCustomer(tx *store.Tx, what string, effective, objectBy calendar.Date, message, baseURL string) (int, error) {
	var active []customers.Customer
	if err := tx.G.Where("status = ?", customers.CustomerActive).Order("name").Find(&active).Error; err != nil {
		return 0, fmt.Errorf("list customers to tell: %w", err)
	}
	n := 0
	for i := range active {
		c := &active[i]
		to, err := customerAdminAddresses(tx.G, c)
		if err != nil {
			return 0, err
		}
		data := outbox.MailData{Reference: what, Business: c.Name, DueOn: effective.String(), Message: message,
			Link: strings.TrimRight(baseURL, "/") + "/subprocessors"}
		if !objectBy.IsZero() {
			data.AnswerBy = objectBy.String()
		}
		for _, addr := range to {
			if err := outbox.QueueMail(tx, outbox.OutboundMail{CustomerID: c.ID, Kind: outbox.MailProcessorChange, To: addr, Data: data}); err != nil {
				return 0, err
			}
			n++
		}
	}
	return n, nil
}

// RemoveSubprocessor takes a sub-processor off the list from a day on; it
// stays in the history. Staff only.
func (db *RegisterStore) RemoveSubprocessor(ctx context.Context, actor store.Actor, id string, on calendar.Date) error {
	if !actor.Staff() {
		return store.ErrNotFound
	}
	if on.IsZero() {
		return errs.Invalid("removed_on", "is required")
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		sp, err := subprocessor(tx, id)
		if err != nil {
			return err
		}
		if !sp.RemovedOn.IsZero() {
			return &errs.ConflictError{Field: "removed_on", Message: "it was removed on " + sp.RemovedOn.String()}
		}
		if err := tx.G.Model(&Subprocessor{}).Where("id = ?", id).Update("removed_on", on).Error; err != nil {
			return fmt.Errorf("remove sub-processor: %w", err)
		}
		tx.Audit(store.Audit{Action: "subprocessor.remove", ObjectType: "subprocessor", ObjectID: id, Details: map[string]any{"name": sp.Name, "removed_on": on.String()}})
		return nil
	})
}

func subprocessor(tx *store.Tx, id string) (*Subprocessor, error) {
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var sp Subprocessor
	if err := tx.G.First(&sp, "id = ?", id).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return &sp, nil
}

// PolicyVersionInput is a new version of the privacy policy.
type PolicyVersionInput struct {
	Version, Summary, URL string
	EffectiveOn           calendar.Date
}

// AddPolicyVersion records a new version of the privacy policy and mails
// every active customer's admins its effective date and summary. It
// cannot take effect before today. Staff only.
func (db *RegisterStore) AddPolicyVersion(ctx context.Context, actor store.Actor, in PolicyVersionInput, today calendar.Date, baseURL string) (*PolicyVersion, int, error) {
	if !actor.Staff() {
		return nil, 0, store.ErrNotFound
	}
	var err error
	if in.Version, err = requiredText("version", in.Version, 50); err != nil {
		return nil, 0, err
	}
	if in.Summary, err = requiredText("summary", in.Summary, 5000); err != nil {
		return nil, 0, err
	}
	in.URL = strings.TrimSpace(in.URL)
	if in.URL != "" && !strings.HasPrefix(in.URL, "https://") {
		return nil, 0, errs.Invalid("url", "must be an https address")
	}
	if in.EffectiveOn.IsZero() {
		return nil, 0, errs.Invalid("effective_on", "is required")
	}
	if in.EffectiveOn.Before(today) {
		return nil, 0, errs.Invalid("effective_on", "is in the past: customers must be told before a version takes effect")
	}
	var pv *PolicyVersion
	mails := 0
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		var n int64
		if err := tx.G.Model(&PolicyVersion{}).Where("version = ?", in.Version).Count(&n).Error; err != nil {
			return fmt.Errorf("check version: %w", err)
		}
		if n > 0 {
			return &errs.ConflictError{Field: "version", Message: "version " + in.Version + " exists already"}
		}
		pv = &PolicyVersion{ID: uuid.Must(uuid.NewV7()).String(), Version: in.Version, EffectiveOn: in.EffectiveOn, Summary: in.Summary,
			URL: in.URL, CreatedBy: actor.Label, CreatedAt: store.Now()}
		if err := tx.G.Create(pv).Error; err != nil {
			return fmt.Errorf("add policy version: %w", err)
		}
		msg := "Privacy policy version " + pv.Version + ": " + pv.Summary
		if pv.URL != "" {
			msg += "\nRead it at " + pv.URL
		}
		var err error
		if mails, err = mailEveryCustomer(tx, "privacy policy version "+pv.Version, pv.EffectiveOn, calendar.Date{}, msg, baseURL); err != nil {
			return err
		}
		tx.Audit(store.Audit{Action: "policy_version.add", ObjectType: "policy_version", ObjectID: pv.ID,
			Details: map[string]any{"version": pv.Version, "effective_on": pv.EffectiveOn.String(), "mails": mails}})
		return nil
	})
	return pv, mails, err
}

// Subprocessors lists every sub-processor, current and past, by effective
// date. Every signed-in user may read the list.
func (db *RegisterStore) Subprocessors(ctx context.Context) ([]Subprocessor, error) {
	var out []Subprocessor
	if err := db.Gorm.WithContext(ctx).Order("effective_on DESC, name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list sub-processors: %w", err)
	}
	return out, nil
}

// PolicyVersions lists the privacy policy's versions, newest first.
func (db *RegisterStore) PolicyVersions(ctx context.Context) ([]PolicyVersion, error) {
	var out []PolicyVersion
	if err := db.Gorm.WithContext(ctx).Order("effective_on DESC, version DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list policy versions: %w", err)
	}
	return out, nil
}

// ObjectToSubprocessor records a customer's objection to a new
// sub-processor while its objection window is open; one per customer and
// sub-processor. Only a customer's own users object, for their customer.
func (db *RegisterStore) ObjectToSubprocessor(ctx context.Context, actor store.Actor, id, reason string, today calendar.Date) (*SubprocessorObjection, error) {
	if actor.Staff() || actor.CustomerID == "" {
		return nil, store.ErrNotFound
	}
	reason, err := requiredText("reason", reason, 5000)
	if err != nil {
		return nil, err
	}
	var obj *SubprocessorObjection
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		sp, err := subprocessor(tx, id)
		if err != nil {
			return err
		}
		if today.After(sp.ObjectionUntil) {
			return &errs.ConflictError{Field: "reason", Message: "the window to object to " + sp.Name + " ended on " + sp.ObjectionUntil.String()}
		}
		var prior SubprocessorObjection
		err = tx.G.Scopes(actor.Tenant("customer_id")).Where("customer_id = ? AND subprocessor_id = ?", actor.CustomerID, id).Take(&prior).Error
		if err == nil {
			return &errs.ConflictError{Field: "reason", Message: "your objection to " + sp.Name + " was recorded already"}
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("check prior objection: %w", err)
		}
		obj = &SubprocessorObjection{CustomerID: actor.CustomerID, ID: uuid.Must(uuid.NewV7()).String(), SubprocessorID: id, Reason: reason,
			CreatedBy: actor.Label, CreatedAt: store.Now()}
		if err := tx.G.Create(obj).Error; err != nil {
			return fmt.Errorf("record objection: %w", err)
		}
		tx.Audit(store.Audit{Action: "subprocessor.objection", ObjectType: "subprocessor", ObjectID: id, CustomerID: actor.CustomerID,
			Details: map[string]any{"name": sp.Name}})
		return nil
	})
	return obj, err
}

// SubprocessorObjections lists objections, newest first: every customer's
// for staff, its own for a customer's user.
func (db *RegisterStore) SubprocessorObjections(ctx context.Context, actor store.Actor) ([]SubprocessorObjection, error) {
	var rows []struct {
		SubprocessorObjection
		CName  string
		SpName string
	}
	err := db.Gorm.WithContext(ctx).Table("subprocessor_objections").Scopes(actor.Tenant("subprocessor_objections.customer_id")).
		Select("subprocessor_objections.*, customers.name AS c_name, subprocessors.name AS sp_name").
		Joins("JOIN customers ON customers.id = subprocessor_objections.customer_id").
		Joins("JOIN subprocessors ON subprocessors.id = subprocessor_objections.subprocessor_id").
		Order("subprocessor_objections.created_at DESC").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list objections: %w", err)
	}
	out := make([]SubprocessorObjection, len(rows))
	for i, r := range rows {
		out[i] = r.SubprocessorObjection
		out[i].CustomerName, out[i].SubprocessorName = r.CName, r.SpName
	}
	return out, nil
}
