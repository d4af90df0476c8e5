package accounts

import (
	customers "github.com/sendara/console/models/customers"
	errs "github.com/sendara/console/models/errs"

	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// User is a person who signs in: Sendara staff (CustomerID nil) or a
// customer's admin or agent.
type User struct {
	ID           string `gorm:"primaryKey"`
	CustomerID   *string
	Email        string
	Name         string
	PasswordHash string
	// TOTPSecret is sealed with the DB's keyring (see Keyring); only the
	// TOTP functions open it.
	TOTPSecret    string     `gorm:"column:totp_secret"`
	TOTPEnabledAt *time.Time `gorm:"column:totp_enabled_at"`
	TOTPLastStep  int64      `gorm:"column:totp_last_step"`
	DisabledAt    *time.Time
	LastLoginAt   *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time

	Roles []RoleAssignment `gorm:"foreignKey:UserID"`
}

// RoleAssignment grants a role in a Casbin domain: StaffDomain for staff,
// the customer id for customer users.
type RoleAssignment struct {
	UserID    string `gorm:"primaryKey"`
	Role      Role   `gorm:"primaryKey"`
	Domain    string `gorm:"primaryKey"`
	CreatedAt time.Time
}

// Role returns the user's role (the console assigns one per user).
func (u *User) Role() Role {
	if len(u.Roles) == 0 {
		return ""
	}
	return u.Roles[0].Role
}

// Tenant is the user's customer id, empty for staff.
func (u *User) Tenant() string {
	if u.CustomerID == nil {
		return ""
	}
	return *u.CustomerID
}

// Disabled reports whether the user may no longer sign in.
func (u *User) Disabled() bool { return u.DisabledAt != nil }

// HasTOTP reports whether the user has enrolled a second factor.
func (u *User) HasTOTP() bool { return u.TOTPEnabledAt != nil }

// Actor is the user acting from ip.
func (u *User) Actor(ip string) store.Actor {
	if u.CustomerID == nil {
		return store.StaffUser(u.ID, u.Email, ip)
	}
	return store.CustomerUser(u.ID, u.Email, *u.CustomerID, ip)
}

// UserInput describes a new user. Password is optional: without it the
// user gets an invitation link to choose one.
type UserInput struct {
	Email      string
	Name       string
	Role       Role
	CustomerID string // required for customer roles, empty for staff roles
	Password   string
}

// CreateUser adds a user with one role. Staff roles have no tenant;
// customer roles need one. A customer admin may create users only in its
// own tenant.
func (db *AccountStore) CreateUser(ctx context.Context, actor store.Actor, in UserInput) (*User, error) {
	email, err := store.NormalizeEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	if _, err := ParseRole(string(in.Role)); err != nil {
		return nil, err
	}
	if !actor.Staff() {
		if in.Role.Staff() {
			return nil, errs.Invalid("role", "customer admins may grant only customer_admin or customer_agent")
		}
		in.CustomerID = actor.CustomerID
	}
	switch {
	case in.Role.Staff() && in.CustomerID != "":
		return nil, errs.Invalid("customer", "staff roles act for Sendara and belong to no customer")
	case !in.Role.Staff() && in.CustomerID == "":
		return nil, errs.Invalid("customer", "is required for role %s", in.Role)
	case in.CustomerID != "" && !store.ValidID(in.CustomerID):
		return nil, errs.Invalid("customer", "no such customer")
	}
	if in.Password != "" {
		if err := CheckPassword(in.Password, email); err != nil {
			return nil, err
		}
	}
	name := strings.TrimSpace(in.Name)
	if len(name) > 200 {
		return nil, errs.Invalid("name", "must be at most 200 characters")
	}
	now := store.Now()
	u := &User{ID: uuid.Must(uuid.NewV7()).String(), Email: email, Name: name, CreatedAt: now, UpdatedAt: now}
	domain := StaffDomain
	if in.CustomerID != "" {
		u.CustomerID = &in.CustomerID
		domain = in.CustomerID
	}
	if in.Password != "" {
		if u.PasswordHash, err = HashPassword(in.Password); err != nil {
			return nil, err
		}
	}
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		if in.CustomerID != "" {
			var c customers.Customer
			if err := tx.G.Scopes(actor.Tenant("id")).First(&c, "id = ?", in.CustomerID).Error; err != nil {
				if errors.Is(err, gorm.ErrRecordNotFound) {
					return errs.Invalid("customer", "no such customer")
				}
				return err
			}
			if c.Status != customers.CustomerActive {
				return errs.Invalid("customer", "customer %s is %s", c.Slug, c.Status)
			}
		}
		if err := tx.G.Omit("Roles").Create(u).Error; err != nil {
			return store.UniqueViolation(err, "email", fmt.Sprintf("a user with email %s already exists", email))
		}
		ra := RoleAssignment{UserID: u.ID, Role: in.Role, Domain: domain, CreatedAt: now}
		if err := tx.G.Create(&ra).Error; err != nil {
			return fmt.Errorf("assign role: %w", err)
		}
		u.Roles = []RoleAssignment{ra}
		tx.Audit(store.Audit{Action: "user.create", ObjectType: "user", ObjectID: u.ID, CustomerID: in.CustomerID,
			Details: map[string]any{"email": email, "role": in.Role}})
		tx.Audit(store.Audit{Action: "role.grant", ObjectType: "user", ObjectID: u.ID, CustomerID: in.CustomerID,
			Details: map[string]any{"role": in.Role, "domain": domain}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// User loads one user the actor may see, with its roles.
func (db *AccountStore) User(ctx context.Context, actor store.Actor, id string) (*User, error) {
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var u User
	if err := db.Gorm.WithContext(ctx).Preload("Roles").Scopes(actor.Tenant("customer_id")).First(&u, "id = ?", id).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return &u, nil
}

// userByID loads a user regardless of tenant, for the session layer.
func userByID(g *gorm.DB, id string) (*User, error) {
	var u User
	if err := g.Preload("Roles").First(&u, "id = ?", id).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return &u, nil
}

// Users lists the users the actor may see: all for staff, the own tenant's
// for a customer admin.
func (db *AccountStore) Users(ctx context.Context, actor store.Actor) ([]User, error) {
	var us []User
	if err := db.Gorm.WithContext(ctx).Preload("Roles").Scopes(actor.Tenant("customer_id")).Order("email").Find(&us).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// SetUserRole replaces the user's role. The domain follows the user's
// tenant: a staff user keeps staff roles and a customer user customer roles,
// so a role change can never move a user across tenants.
func (db *AccountStore) SetUserRole(ctx context.Context, actor store.Actor, id string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		u, err := ScopedUserForUpdate(tx, id)
		if err != nil {
			return err
		}
		if (u.CustomerID == nil) != role.Staff() {
			if role.Staff() {
				return errs.Invalid("role", "%s is a staff role; this user belongs to a customer", role)
			}
			return errs.Invalid("role", "%s is a customer role; this user is Sendara staff", role)
		}
		if u.ID == actor.ID {
			return errs.Invalid("role", "you cannot change your own role; ask another admin")
		}
		before := u.Role()
		if before == role {
			return nil
		}
		domain := StaffDomain
		if u.CustomerID != nil {
			domain = *u.CustomerID
		}
		if err := tx.G.Where("user_id = ?", u.ID).Delete(&RoleAssignment{}).Error; err != nil {
			return fmt.Errorf("revoke roles: %w", err)
		}
		if err := tx.G.Create(&RoleAssignment{UserID: u.ID, Role: role, Domain: domain, CreatedAt: store.Now()}).Error; err != nil {
			return fmt.Errorf("grant role: %w", err)
		}
		tx.Audit(store.Audit{Action: "role.change", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant(),
			Details: map[string]any{"email": u.Email, "before": before, "after": role, "domain": domain}})
		return nil
	})
}

// SetUserDisabled disables or re-enables a user. Disabling ends the user's
// sessions at once.
func (db *AccountStore) SetUserDisabled(ctx context.Context, actor store.Actor, id string, disabled bool) error {
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		u, err := ScopedUserForUpdate(tx, id)
		if err != nil {
			return err
		}
		if u.ID == actor.ID {
			return errs.Invalid("user", "you cannot disable your own account")
		}
		if u.Disabled() == disabled {
			return nil
		}
		var at *time.Time
		action := "user.enable"
		if disabled {
			now := store.Now()
			at, action = &now, "user.disable"
			if err := tx.G.Where("user_id = ?", u.ID).Delete(&Session{}).Error; err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
		}
		if err := tx.G.Model(u).Updates(map[string]any{"disabled_at": at, "updated_at": store.Now()}).Error; err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		tx.Audit(store.Audit{Action: action, ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant(),
			Details: map[string]any{"email": u.Email}})
		return nil
	})
}

func ScopedUserForUpdate(tx *store.Tx, id string) (*User, error) {
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var u User
	if err := tx.G.Preload("Roles").Scopes(tx.Actor.Tenant("customer_id")).First(&u, "id = ?", id).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return &u, nil
}

// ChangePassword sets a new password after checking the current one. Other
// sessions of the user end; the current one (keepSession) stays.
func (db *AccountStore) ChangePassword(ctx context.Context, actor store.Actor, current, next, keepSession string) error {
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		u, err := userByID(tx.G, actor.ID)
		if err != nil {
			return err
		}
		if !passwordMatches(u.PasswordHash, current) {
			return errs.Invalid("current_password", "is not your current password")
		}
		if err := CheckPassword(next, u.Email); err != nil {
			return err
		}
		if current == next {
			return errs.Invalid("password", "must differ from the current password")
		}
		hash, err := HashPassword(next)
		if err != nil {
			return err
		}
		if err := tx.G.Model(u).Updates(map[string]any{"password_hash": hash, "updated_at": store.Now()}).Error; err != nil {
			return fmt.Errorf("store password: %w", err)
		}
		if err := tx.G.Where("user_id = ? AND id_hash <> ?", u.ID, store.HashToken(keepSession)).Delete(&Session{}).Error; err != nil {
			return fmt.Errorf("end other sessions: %w", err)
		}
		tx.Audit(store.Audit{Action: "user.password_change", ObjectType: "user", ObjectID: u.ID, CustomerID: u.Tenant()})
		return nil
	})
}

// CustomerUsers lists one customer's users, for its page.
func (db *AccountStore) CustomerUsers(ctx context.Context, actor store.Actor, customerID string) ([]User, error) {
	if !store.ValidID(customerID) {
		return nil, store.ErrNotFound
	}
	var us []User
	err := db.Gorm.WithContext(ctx).Preload("Roles").Scopes(actor.Tenant("customer_id")).
		Where("customer_id = ?", customerID).Order("email").Find(&us).Error
	if err != nil {
		return nil, fmt.Errorf("list customer users: %w", err)
	}
	return us, nil
}
