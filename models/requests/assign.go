package requests

import (
	accounts "github.com/sendara/console/models/accounts"

	errs "github.com/sendara/console/models/errs"

	"errors"
	"slices"

	store "github.com/sendara/console/models/store"
)

const DueInForce = "COALESCE(extended_to, due_on)"

// ActingRoles are the roles that work requests; only their users can be
// assigned one (an auditor reads, never acts).
var ActingRoles = []accounts.Role{accounts.RoleStaffAdmin, accounts.RolePrivacyOfficer}

// assignableUser loads an active staff user of an acting role, locked for
// the transaction.
func assignableUser(tx *store.Tx, userID string) (*accounts.User, error) {
	u, err := accounts.ScopedUserForUpdate(tx, userID)
	if err != nil || u.CustomerID != nil || u.Disabled() || !slices.Contains(ActingRoles, u.Role()) {
		return nil, errs.Invalid("assignee", "choose an active staff admin or privacy officer (auditors and customer users cannot be assigned)")
	}
	return u, nil
}

func Assign(tx *store.Tx, ids []string, userID string, refuseClosed bool) error {
	label := "nobody"
	if userID != "" {
		u, err := assignableUser(tx, userID)
		if err != nil {
			return err
		}
		label = u.Email
	}
	for _, id := range ids {
		r, err := UpdateRequest(tx, id, "request.assign", func(r *PrivacyRequest) (string, map[string]any, error) {
			if refuseClosed && Closed(r.Status) {
				return "", nil, &errs.ConflictError{Field: "ids", Message: r.Reference + " is closed: it cannot be assigned"}
			}
			if userID == "" {
				r.AssigneeID = nil
			} else {
				r.AssigneeID = &userID
			}
			return "Assigned to " + label + ".", map[string]any{"assignee": label}, nil
		})
		if err != nil {
			if errors.Is(err, store.ErrNotFound) && refuseClosed {
				return errs.Invalid("ids", "no such request: %s", id)
			}
			return err
		}
		if userID != "" && userID != tx.Actor.ID {
			if _, err := notifyUsers(tx, []string{userID}, r, NotifyAssigned, r.Reference+": assigned to you by "+tx.Actor.Label+".", ""); err != nil {
				return err
			}
		}
	}
	return nil
}
