package customers

import (
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	errs "github.com/sendara/console/models/errs"
	store "github.com/sendara/console/models/store"
)

// Customer is a business that uses Sendara: the controller of its contacts'
// data and a tenant of the console.
type Customer struct {
	ID            string `gorm:"primaryKey"`
	Slug          string
	Name          string
	ContactEmail  string
	CRMType       string `gorm:"column:crm_type"`
	Status        string
	CancelledAt   *time.Time
	DPAAcceptedAt *time.Time `gorm:"column:dpa_accepted_at"`
	// RequireMFA: every user of the customer must use two-step sign-in
	// (SetRequireMFA), not only those who opted in.
	RequireMFA bool   `gorm:"column:require_mfa"`
	HelpText   string // the answer to a HELP reply; empty: DefaultHelpText
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// CRMTypes are the workflow tools a customer may connect.
var CRMTypes = []string{"hubspot", "gohighlevel", "close", "salesforce", "pipedrive", "zapier", "n8n", "other"}

// Customer statuses.
const (
	CustomerActive    = "active"
	CustomerCancelled = "cancelled"
	CustomerClosed    = "closed"
)

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)

// CustomerInput is what a person may set on a customer.
type CustomerInput struct {
	Slug          string
	Name          string
	ContactEmail  string
	CRMType       string
	DPAAcceptedAt *time.Time
}

func (in *CustomerInput) normalize() error {
	in.Slug = strings.ToLower(strings.TrimSpace(in.Slug))
	in.Name = strings.TrimSpace(in.Name)
	in.ContactEmail = strings.ToLower(strings.TrimSpace(in.ContactEmail))
	in.CRMType = strings.ToLower(strings.TrimSpace(in.CRMType))
	if in.CRMType == "" {
		in.CRMType = "other"
	}
	switch {
	case !slugPattern.MatchString(in.Slug):
		return errs.Invalid("slug", "must be 1-64 lower-case letters, digits or hyphens, not starting or ending with a hyphen")
	case in.Name == "":
		return errs.Invalid("name", "is required")
	case len(in.Name) > 200:
		return errs.Invalid("name", "must be at most 200 characters")
	case !slices.Contains(CRMTypes, in.CRMType):
		return errs.Invalid("crm", "must be one of %s", strings.Join(CRMTypes, ", "))
	}
	if in.ContactEmail != "" {
		if _, err := mail.ParseAddress(in.ContactEmail); err != nil {
			return errs.Invalid("contact_email", "is not an email address")
		}
	}
	return nil
}

// CreateCustomer adds a tenant. Only staff may (the route says so); the
// rule that slugs are unique lives here.
func (db *CustomerStore) CreateCustomer(ctx context.Context, actor store.Actor, in CustomerInput) (*Customer, error) {
	if err := in.normalize(); err != nil {
		return nil, err
	}
	now := store.Now()
	c := &Customer{
		ID: uuid.Must(uuid.NewV7()).String(), Slug: in.Slug, Name: in.Name, ContactEmail: in.ContactEmail,
		CRMType: in.CRMType, Status: CustomerActive, DPAAcceptedAt: in.DPAAcceptedAt, CreatedAt: now, UpdatedAt: now,
	}
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := tx.G.Create(c).Error; err != nil {
			return store.UniqueViolation(err, "slug", fmt.Sprintf("a customer with slug %q already exists", c.Slug))
		}
		tx.Audit(store.Audit{Action: "customer.create", ObjectType: "customer", ObjectID: c.ID, CustomerID: c.ID,
			Details: map[string]any{"slug": c.Slug, "name": c.Name, "crm": c.CRMType}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateCustomer changes a customer's details; the audit entry records
// what changed, before and after.
func (db *CustomerStore) UpdateCustomer(ctx context.Context, actor store.Actor, id string, in CustomerInput) (*Customer, error) {
	if err := in.normalize(); err != nil {
		return nil, err
	}
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var c Customer
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := tx.G.Scopes(actor.Tenant("id")).First(&c, "id = ?", id).Error; err != nil {
			return store.NotFound(err)
		}
		changes := map[string]any{}
		diff := func(field string, before, after any) {
			if before != after {
				changes[field] = map[string]any{"before": before, "after": after}
			}
		}
		diff("slug", c.Slug, in.Slug)
		diff("name", c.Name, in.Name)
		diff("contact_email", c.ContactEmail, in.ContactEmail)
		diff("crm", c.CRMType, in.CRMType)
		c.Slug, c.Name, c.ContactEmail, c.CRMType, c.DPAAcceptedAt = in.Slug, in.Name, in.ContactEmail, in.CRMType, in.DPAAcceptedAt
		if err := tx.G.Save(&c).Error; err != nil {
			return store.UniqueViolation(err, "slug", fmt.Sprintf("a customer with slug %q already exists", c.Slug))
		}
		tx.Audit(store.Audit{Action: "customer.update", ObjectType: "customer", ObjectID: c.ID, CustomerID: c.ID, Details: changes})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Customer returns one customer the actor may see.
func (db *CustomerStore) Customer(ctx context.Context, actor store.Actor, id string) (*Customer, error) {
	var c Customer
	if _, err := uuid.Parse(id); err != nil {
		return nil, store.ErrNotFound
	}
	if err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("id")).First(&c, "id = ?", id).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return &c, nil
}

// CustomerBySlug finds a customer by its slug (command line).
func (db *CustomerStore) CustomerBySlug(ctx context.Context, slug string) (*Customer, error) {
	var c Customer
	if err := db.Gorm.WithContext(ctx).First(&c, "slug = ?", strings.ToLower(slug)).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return &c, nil
}

// Customers lists the customers the actor may see, by name.
func (db *CustomerStore) Customers(ctx context.Context, actor store.Actor) ([]Customer, error) {
	var cs []Customer
	if err := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("id")).Order("name, slug").Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	return cs, nil
}

// RequireCustomer checks that customerID is an active customer the actor
// may act in.
func RequireCustomer(t *store.Tx, customerID string) error {
	if !store.ValidID(customerID) {
		return store.ErrNotFound
	}
	var c Customer
	if err := t.G.Scopes(t.Actor.Tenant("id")).Select("id", "status", "slug").First(&c, "id = ?", customerID).Error; err != nil {
		return store.NotFound(err)
	}
	if c.Status != CustomerActive {
		return &errs.ConflictError{Field: "customer", Message: fmt.Sprintf("customer %s is %s", c.Slug, c.Status)}
	}
	return nil
}
