package registers

import (
	"context"
	"fmt"
	"time"

	accounts "github.com/sendara/console/models/accounts"
	consent "github.com/sendara/console/models/consent"
	customers "github.com/sendara/console/models/customers"
	errs "github.com/sendara/console/models/errs"
	fulfilment "github.com/sendara/console/models/fulfilment"
	outbox "github.com/sendara/console/models/outbox"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ClosedSuppression is a closed customer's opted-out identifier, kept as a
// keyed hash only.
type ClosedSuppression struct {
	CustomerID string `gorm:"primaryKey"`
	Hash       string `gorm:"primaryKey"`
	Reason     string
	Since      time.Time
}

// TableName is closed_suppressions.
func (ClosedSuppression) TableName() string { return "closed_suppressions" }

// reactivationWindow is the cancelled_accounts rule, read in the caller's
// transaction.
func reactivationWindow(g *gorm.DB) (int, error) {
	var r RetentionRule
	if err := g.First(&r, "category = ?", RetainCancelledAccounts).Error; err != nil {
		return 0, fmt.Errorf("read the reactivation window: %w", err)
	}
	return r.Days, nil
}

// ReactivationEnds is when a customer cancelled at cancelledAt can no
// longer come back.
func ReactivationEnds(cancelledAt time.Time, days int) time.Time {
	return cancelledAt.AddDate(0, 0, days)
}

// customerAdminAddresses lists where mail to a customer goes: its active
// admins and its privacy contact.
func customerAdminAddresses(g *gorm.DB, c *customers.Customer) ([]string, error) {
	var emails []string
	err := g.Table("users").Joins("JOIN role_assignments ra ON ra.user_id = users.id").
		Where("users.customer_id = ? AND ra.role = ? AND users.disabled_at IS NULL", c.ID, accounts.RoleCustomerAdmin).
		Pluck("users.email", &emails).Error
	if err != nil {
		return nil, fmt.Errorf("find %s's admins: %w", c.Slug, err)
	}
	if c.ContactEmail != "" {
		emails = append(emails, c.ContactEmail)
	}
	return store.Dedupe(emails), nil
}

// mailCustomerAdmins queues one mail to each of the customer's admins.
func mailCustomerAdmins(t *store.Tx, c *customers.Customer, to []string, subject, body string) error {
	for _, addr := range to {
		if err := outbox.QueueMail(t, outbox.OutboundMail{CustomerID: c.ID, Kind: outbox.MailOther, To: addr, Subject: subject, Body: body}); err != nil {
			return err
		}
	}
	return nil
}

// customerCancelled tells the admins of a customer that was just cancelled
// until when it can come back, and what happens then.
func customerCancelled(t *store.Tx, c *customers.Customer, at time.Time) error {
	days, err := reactivationWindow(t.G)
	if err != nil {
		return err
	}
	to, err := customerAdminAddresses(t.G, c)
	if err != nil {
		return err
	}
	ends := ReactivationEnds(at, days).Format("2 January 2006")
	body := fmt.Sprintf(`Hello %s team,

Your Sendara account was cancelled on %s. Your users can no longer sign in and your API keys have stopped working.

If this was a mistake, or you change your mind, ask us to reactivate the account before %s: everything comes back as it was, contacts, opt-outs, users and keys.

After %s we delete your account's data: contacts, consent history, replies, communication records, uploaded files, users and keys. We keep only what the law or your opt-outs need: privacy request records, the audit log, and the identifiers of people who opted out, as keyed hashes that cannot be read back, so that those opt-outs are never lost.

Sendara Privacy Team
`, c.Name, at.Format("2 January 2006"), ends, ends)
	return mailCustomerAdmins(t, c, to, "Your Sendara account was cancelled: reactivate before "+ends, body)
}

// ReactivateCustomer brings a cancelled customer back within the
// reactivation window: nothing was deleted, so setting it active again
// restores its users' sign-in, its keys and all its data. After the window
// the account is closed (or about to be) and cannot come back.
func (db *RegisterStore) ReactivateCustomer(ctx context.Context, actor store.Actor, id string) error {
	if !actor.Staff() || !store.ValidID(id) {
		return store.ErrNotFound
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		var c customers.Customer
		if err := lockCustomer(tx, &c, id); err != nil {
			return store.NotFound(err)
		}
		if c.Status != customers.CustomerCancelled || c.CancelledAt == nil {
			return &errs.ConflictError{Field: "status", Message: fmt.Sprintf("customer %s is %s: only a cancelled customer can be reactivated", c.Slug, c.Status)}
		}
		days, err := reactivationWindow(tx.G)
		if err != nil {
			return err
		}
		now, cancelledAt := store.Now(), *c.CancelledAt
		if ends := ReactivationEnds(cancelledAt, days); !now.Before(ends) {
			return &errs.ConflictError{Field: "status", Message: fmt.Sprintf("the reactivation window of %s ended on %s; its data is being deleted",
				c.Slug, ends.Format("2 January 2006"))}
		}
		if err := tx.G.Model(&c).Updates(map[string]any{"status": customers.CustomerActive, "cancelled_at": nil, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("reactivate customer: %w", err)
		}
		tx.Audit(store.Audit{Action: "customer.reactivate", ObjectType: "customer", ObjectID: c.ID, CustomerID: c.ID,
			Details: map[string]any{"slug": c.Slug, "cancelled_at": cancelledAt.Format(time.RFC3339)}})
		to, err := customerAdminAddresses(tx.G, &c)
		if err != nil {
			return err
		}
		return mailCustomerAdmins(tx, &c, to, "Your Sendara account is active again", fmt.Sprintf(`Hello %s team,

Your Sendara account was reactivated on %s. Your users can sign in again, your API keys work again, and your contacts and opt-outs are as they were.

Sendara Privacy Team
`, c.Name, now.Format("2 January 2006")))
	})
}

// lockCustomer reads a customer and, on PostgreSQL, locks its row, so a
// reactivation and the closure of one customer run one after the other.
func lockCustomer(t *store.Tx, c *customers.Customer, id string) error {
	q := t.G
	if t.Dialect == store.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return q.First(c, "id = ?", id).Error
}

// closeCustomers closes cancelled customers whose reactivation window has
// ended (the sweeper's cancelled_accounts step), each in the sweep's
// transaction: the identifiers of opted-out or restricted contacts go to
// the closed customer's suppression list as keyed hashes; contacts and
// everything about them are deleted except those under a legal hold;
// users are anonymized and signed out, keys revoked, stored import files,
// received mail and sent mail bodies removed. Privacy request records and
// the audit log stay. The admins are mailed before their addresses go.
func closeCustomers(tx *store.Tx, s *sweepScope, ids []string) error {
	for _, id := range ids {
		if err := closeCustomer(tx, s, id); err != nil {
			return err
		}
	}
	return nil
}

func closeCustomer(tx *store.Tx, s *sweepScope, id string) error {
	var c customers.Customer
	if err := lockCustomer(tx, &c, id); err != nil {
		return fmt.Errorf("close customer: %w", err)
	}
	if c.Status != customers.CustomerCancelled {
		return nil // reactivated since the sweep selected it
	}
	to, err := customerAdminAddresses(tx.G, &c)
	if err != nil {
		return err
	}
	now := store.Now()

	// Held contacts: by id, or through an identifier's hash.
	var held []string
	if err := tx.G.Table("legal_holds").Where("customer_id = ? AND released_at IS NULL AND contact_id IS NOT NULL", id).
		Pluck("contact_id", &held).Error; err != nil {
		return fmt.Errorf("read legal holds: %w", err)
	}
	held = append(held, s.hashHeld...)

	// One row per suppressed channel: an identifier keeps its earliest.
	var suppressed []struct {
		Value  string
		Reason string
		Since  time.Time
	}
	if err := tx.G.Table("contact_identifiers ci").Select("ci.value, cs.reason, cs.since").
		Joins("JOIN consent_states cs ON cs.customer_id = ci.customer_id AND cs.contact_id = ci.contact_id AND cs.suppressed").
		Where("ci.customer_id = ?", id).Order("ci.value, cs.since").Scan(&suppressed).Error; err != nil {
		return fmt.Errorf("read opted-out identifiers: %w", err)
	}
	var rows []ClosedSuppression
	for _, v := range suppressed {
		if n := len(rows); n > 0 && rows[n-1].Hash == consent.IdentifierHash(s.key, id, v.Value) {
			continue
		}
		rows = append(rows, ClosedSuppression{CustomerID: id, Hash: consent.IdentifierHash(s.key, id, v.Value), Reason: v.Reason, Since: v.Since})
	}
	if len(rows) > 0 {
		if err := tx.G.Clauses(clause.OnConflict{DoNothing: true}).Create(rows).Error; err != nil {
			return fmt.Errorf("keep opt-outs as keyed hashes: %w", err)
		}
	}

	var contacts []string
	q := tx.G.Table("contacts").Where("customer_id = ?", id)
	if len(held) > 0 {
		q = q.Where("id NOT IN ?", held)
	}
	if err := q.Pluck("id", &contacts).Error; err != nil {
		return fmt.Errorf("list contacts: %w", err)
	}
	deleted, err := fulfilment.DeleteContacts(tx, id, contacts)
	if err != nil {
		return err
	}
	var kept int64
	if err := tx.G.Table("contacts").Where("customer_id = ?", id).Count(&kept).Error; err != nil {
		return fmt.Errorf("count held contacts: %w", err)
	}

	// Mail about the closure goes out before the admins' addresses are
	// removed, and after the old mail's bodies are.
	steps := []struct{ what, sql string }{
		{"import files", "DELETE FROM import_chunks WHERE job_id IN (SELECT id FROM import_jobs WHERE customer_id = ?)"},
		{"import bad rows", "DELETE FROM import_bad_rows WHERE job_id IN (SELECT id FROM import_jobs WHERE customer_id = ?)"},
		{"received mail", "DELETE FROM inbound_mail WHERE customer_id = ? AND (request_id IS NULL OR request_id IN (SELECT id FROM privacy_requests WHERE status IN " + closedStatus + "))"},
		{"sent mail", "UPDATE outbox SET body_text = '', to_addr = '' WHERE customer_id = ? AND status <> 'queued'"},
		{"routed tasks' contacts", "UPDATE routed_tasks SET contact_ids = '[]' WHERE customer_id = ?"},
	}
	for _, st := range steps {
		if err := tx.G.Exec(st.sql, id).Error; err != nil {
			return fmt.Errorf("close customer: remove %s: %w", st.what, err)
		}
	}
	body := fmt.Sprintf(`Hello %s team,

The reactivation window of your cancelled Sendara account has ended, and on %s we deleted its data: %d contact(s) with their consent history, replies and communication records, uploaded files, users and API keys.

What we keep, and why:
- the identifiers of %d opted-out or restricted person(s), as keyed hashes that cannot be read back, so those opt-outs are never lost;
- privacy request records (the law requires us to keep them for 24 months) and our audit log;
%s
Sendara Privacy Team
`, c.Name, now.Format("2 January 2006"), deleted["contacts"], len(rows), keptLine(kept))
	if err := mailCustomerAdmins(tx, &c, to, "Your Sendara account's data was deleted", body); err != nil {
		return err
	}

	var users []string
	if err := tx.G.Table("users").Where("customer_id = ?", id).Pluck("id", &users).Error; err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	if len(users) > 0 {
		for _, table := range []string{"sessions", "role_assignments", "recovery_codes", "invites", "password_resets"} {
			if err := tx.G.Exec("DELETE FROM "+table+" WHERE user_id IN ?", users).Error; err != nil {
				return fmt.Errorf("close customer: remove %s: %w", table, err)
			}
		}
		for _, u := range users {
			if err := tx.G.Exec("UPDATE users SET email = ?, name = '', password_hash = '', totp_secret = '', totp_enabled_at = NULL, disabled_at = ?, updated_at = ? WHERE id = ?",
				"closed-"+u+"@deleted.invalid", now, now, u).Error; err != nil {
				return fmt.Errorf("close customer: anonymize user: %w", err)
			}
		}
	}
	if err := tx.G.Exec("UPDATE api_keys SET revoked_at = ? WHERE customer_id = ? AND revoked_at IS NULL", now, id).Error; err != nil {
		return fmt.Errorf("close customer: revoke keys: %w", err)
	}
	if err := tx.G.Exec("UPDATE customers SET status = ?, contact_email = '', updated_at = ? WHERE id = ?", customers.CustomerClosed, now, id).Error; err != nil {
		return fmt.Errorf("close customer: %w", err)
	}
	tx.Audit(store.Audit{Action: "customer.close", ObjectType: "customer", ObjectID: id, CustomerID: id,
		Details: map[string]any{"slug": c.Slug, "deleted": deleted, "kept_under_legal_hold": kept, "opt_outs_kept_as_hashes": len(rows),
			"users_anonymized": len(users)}})
	return nil
}

func keptLine(kept int64) string {
	if kept == 0 {
		return ""
	}
	return fmt.Sprintf("- %d contact(s) under a legal hold, kept unchanged until the hold is released.\n", kept)
}

// IsClosedSuppressed reports whether raw was opted out at customerID when
// the customer was closed: the proof an opt-out still stands after the
// account's contacts are gone.
func (db *RegisterStore) IsClosedSuppressed(ctx context.Context, customerID, raw, region string) (bool, error) {
	id, err := store.NormalizeIdentifier("to", raw, region)
	if err != nil {
		return false, err
	}
	key, err := db.ErasureKey(ctx)
	if err != nil {
		return false, err
	}
	var n int64
	err = db.Gorm.WithContext(ctx).Model(&ClosedSuppression{}).
		Where("customer_id = ? AND hash = ?", customerID, consent.IdentifierHash(key, customerID, id.Value)).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("check kept opt-outs: %w", err)
	}
	return n > 0, nil
}

// CancelCustomer marks a customer cancelled: its users can no longer sign
// in and its keys stop working, but its data stays until the reactivation
// window ends (cancellation.go); its admins are told until when.
func (db *RegisterStore) CancelCustomer(ctx context.Context, actor store.Actor, id string) error {
	if !store.ValidID(id) {
		return store.ErrNotFound
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		var c customers.Customer
		if err := tx.G.Scopes(actor.Tenant("id")).First(&c, "id = ?", id).Error; err != nil {
			return store.NotFound(err)
		}
		if c.Status != customers.CustomerActive {
			return &errs.ConflictError{Field: "status", Message: fmt.Sprintf("customer %s is already %s", c.Slug, c.Status)}
		}
		now := store.Now()
		if err := tx.G.Model(&c).Updates(map[string]any{"status": customers.CustomerCancelled, "cancelled_at": now, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("cancel customer: %w", err)
		}
		tx.Audit(store.Audit{Action: "customer.cancel", ObjectType: "customer", ObjectID: c.ID, CustomerID: c.ID,
			Details: map[string]any{"slug": c.Slug}})
		return customerCancelled(tx, &c, now)
	})
}
