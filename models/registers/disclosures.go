package registers

import (
	calendar "github.com/sendara/console/models/calendar"
	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
)

// LegalDisclosure is a demand for data from an authority or a court
// (policy §4.2): what was asked, what Sendara disclosed, and whether the
// customer concerned was told, and if not why.
type LegalDisclosure struct {
	ID            string `gorm:"primaryKey"`
	ReceivedOn    calendar.Date
	Authority     string
	Kind          string
	CustomerID    *string
	Disclosed     string        // what was handed over; empty: nothing
	DisclosedOn   calendar.Date // zero: nothing disclosed
	CustomerTold  bool
	NotToldReason string
	CreatedBy     string
	CreatedAt     time.Time

	CustomerName string `gorm:"-"`
}

// DisclosureKinds are the kinds of demand.
var DisclosureKinds = []string{"subpoena", "court_order", "warrant", "regulator", "law_enforcement_request", "other"}

// DisclosureInput is a demand to record.
type DisclosureInput struct {
	ReceivedOn    calendar.Date
	Authority     string
	Kind          string
	CustomerID    string
	Disclosed     string
	DisclosedOn   calendar.Date
	CustomerTold  bool
	NotToldReason string
}

func (in *DisclosureInput) normalize(today calendar.Date) error {
	var err error
	if in.ReceivedOn.IsZero() {
		return errs.Invalid("received_on", "is required")
	}
	if in.ReceivedOn.After(today) {
		return errs.Invalid("received_on", "is in the future")
	}
	if in.Authority, err = requiredText("authority", in.Authority, 300); err != nil {
		return err
	}
	if !slices.Contains(DisclosureKinds, in.Kind) {
		return errs.Invalid("kind", "must be one of %s", strings.Join(DisclosureKinds, ", "))
	}
	in.Disclosed, in.NotToldReason = strings.TrimSpace(in.Disclosed), strings.TrimSpace(in.NotToldReason)
	switch {
	case in.Disclosed != "" && in.DisclosedOn.IsZero():
		return errs.Invalid("disclosed_on", "say when the data was handed over")
	case in.Disclosed == "" && !in.DisclosedOn.IsZero():
		return errs.Invalid("disclosed", "say what was handed over, or clear the date")
	case !in.DisclosedOn.IsZero() && in.DisclosedOn.Before(in.ReceivedOn):
		return errs.Invalid("disclosed_on", "is before the demand was received")
	case !in.DisclosedOn.IsZero() && in.DisclosedOn.After(today):
		return errs.Invalid("disclosed_on", "is in the future")
	case in.CustomerID != "" && !in.CustomerTold && in.NotToldReason == "":
		return errs.Invalid("not_told_reason", "say why the customer was not told (a court's non-disclosure order, for instance)")
	case in.CustomerTold && in.NotToldReason != "":
		return errs.Invalid("not_told_reason", "the customer was told: leave this empty")
	}
	return nil
}

// RecordDisclosure adds a demand to the register. Staff only.
func (db *RegisterStore) RecordDisclosure(ctx context.Context, actor store.Actor, in DisclosureInput, today calendar.Date) (*LegalDisclosure, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	if err := in.normalize(today); err != nil {
		return nil, err
	}
	d := &LegalDisclosure{ID: uuid.Must(uuid.NewV7()).String(), ReceivedOn: in.ReceivedOn, Authority: in.Authority, Kind: in.Kind,
		Disclosed: in.Disclosed, DisclosedOn: in.DisclosedOn, CustomerTold: in.CustomerTold, NotToldReason: in.NotToldReason,
		CreatedBy: actor.Label, CreatedAt: store.Now()}
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		if in.CustomerID != "" {
			var n int64
			if !store.ValidID(in.CustomerID) {
				return errs.Invalid("customer_id", "no such customer")
			}
			if err := tx.G.Model(&customers.Customer{}).Where("id = ?", in.CustomerID).Count(&n).Error; err != nil {
				return fmt.Errorf("find customer: %w", err)
			}
			if n == 0 {
				return errs.Invalid("customer_id", "no such customer")
			}
			d.CustomerID = &in.CustomerID
		}
		if err := tx.G.Create(d).Error; err != nil {
			return fmt.Errorf("record disclosure: %w", err)
		}
		tx.Audit(store.Audit{Action: "legal_disclosure.record", ObjectType: "legal_disclosure", ObjectID: d.ID, CustomerID: in.CustomerID,
			Details: map[string]any{"kind": d.Kind, "disclosed": d.Disclosed != "", "customer_told": d.CustomerTold}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Disclosures lists the register, newest first. Staff only.
func (db *RegisterStore) Disclosures(ctx context.Context, actor store.Actor) ([]LegalDisclosure, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	var out []LegalDisclosure
	if err := db.Gorm.WithContext(ctx).Order("received_on DESC, created_at DESC").Limit(1000).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list disclosures: %w", err)
	}
	names := map[string]string{}
	var cs []customers.Customer
	if err := db.Gorm.WithContext(ctx).Select("id", "name").Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("customer names: %w", err)
	}
	for _, c := range cs {
		names[c.ID] = c.Name
	}
	for i := range out {
		if out[i].CustomerID != nil {
			out[i].CustomerName = names[*out[i].CustomerID]
		}
	}
	return out, nil
}

// TransparencyYear is one year of the transparency report.
type TransparencyYear struct {
	Year          int
	Received      int
	ByKind        map[string]int
	Disclosed     int // some data handed over
	NoneDisclosed int
	CustomerTold  int
	NotTold       int // a customer was concerned and not told
}

// TransparencyColumns is the CSV header of the transparency report.
var TransparencyColumns = append([]string{"year", "received"}, append(slices.Clone(DisclosureKinds), "data_disclosed", "nothing_disclosed", "customer_told", "customer_not_told")...)

// Record is the year as CSV cells.
func (y TransparencyYear) Record() []string {
	out := []string{strconv.Itoa(y.Year), strconv.Itoa(y.Received)}
	for _, k := range DisclosureKinds {
		out = append(out, strconv.Itoa(y.ByKind[k]))
	}
	return append(out, strconv.Itoa(y.Disclosed), strconv.Itoa(y.NoneDisclosed), strconv.Itoa(y.CustomerTold), strconv.Itoa(y.NotTold))
}

// TransparencyReport counts the demands per calendar year received, newest
// year first. Staff only.
func (db *RegisterStore) TransparencyReport(ctx context.Context, actor store.Actor) ([]TransparencyYear, error) {
	ds, err := db.Disclosures(ctx, actor)
	if err != nil {
		return nil, err
	}
	return transparencyOf(ds), nil
}

func transparencyOf(ds []LegalDisclosure) []TransparencyYear {
	years := map[int]*TransparencyYear{}
	for _, d := range ds {
		y := years[d.ReceivedOn.Year]
		if y == nil {
			y = &TransparencyYear{Year: d.ReceivedOn.Year, ByKind: map[string]int{}}
			years[d.ReceivedOn.Year] = y
		}
		y.Received++
		y.ByKind[d.Kind]++
		if d.Disclosed != "" {
			y.Disclosed++
		} else {
			y.NoneDisclosed++
		}
		if d.CustomerTold {
			y.CustomerTold++
		} else if d.CustomerID != nil {
			y.NotTold++
		}
	}
	out := make([]TransparencyYear, 0, len(years))
	for _, y := range years {
		out = append(out, *y)
	}
	slices.SortFunc(out, func(a, b TransparencyYear) int { return b.Year - a.Year })
	return out
}
