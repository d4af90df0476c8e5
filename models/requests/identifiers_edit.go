package requests

import (
	consent "github.com/sendara/console/models/consent"
	errs "github.com/sendara/console/models/errs"

	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	store "github.com/sendara/console/models/store"
)

// SetIdentifiers changes the subject's identifiers: raw values to add
// (unverified until verified) and values to remove. The audit entry
// (request.identifiers) holds the list before and after. A request to
// stop contact applies to added identifiers at once.
func (db *RequestStore) SetIdentifiers(ctx context.Context, actor store.Actor, id string, add, remove []string, region string) (*PrivacyRequest, error) {
	ids, err := consent.NormalizeAll("identifier", add, region)
	if err != nil {
		return nil, err
	}
	added := consent.IdentifierValues(ids)
	var out *PrivacyRequest
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		var err error
		out, err = UpdateRequest(tx, id, "request.identifiers", func(r *PrivacyRequest) (string, map[string]any, error) {
			if Closed(r.Status) {
				return "", nil, &errs.ConflictError{Field: "identifier", Message: "the request is closed"}
			}
			before := r.Identifiers()
			after := slices.DeleteFunc(slices.Clone(before), func(v string) bool { return slices.Contains(remove, v) })
			for _, v := range added {
				if !slices.Contains(after, v) {
					after = append(after, v)
					if err := tx.G.Create(&SubjectIdentifier{RequestID: r.ID, Value: v}).Error; err != nil {
						return "", nil, fmt.Errorf("add identifier: %w", err)
					}
				}
			}
			if len(after) == 0 {
				return "", nil, errs.Invalid("identifier", "a request keeps at least one identifier of its subject")
			}
			if gone := slices.DeleteFunc(slices.Clone(before), func(v string) bool { return slices.Contains(after, v) }); len(gone) > 0 {
				if err := tx.G.Where("request_id = ? AND value IN ?", r.ID, gone).Delete(&SubjectIdentifier{}).Error; err != nil {
					return "", nil, fmt.Errorf("remove identifier: %w", err)
				}
			}
			if slices.Equal(before, after) {
				return "", nil, errs.Invalid("identifier", "nothing to change")
			}
			js, _ := json.Marshal(after)
			r.SubjectIdentifiers = string(js)
			return fmt.Sprintf("Identifiers changed from %s to %s.", strings.Join(before, ", "), strings.Join(after, ", ")),
				map[string]any{"before": before, "after": after}, nil
		})
		if err != nil {
			return err
		}
		return stopAtOnce(tx, out)
	})
	return out, err
}

// UpdateRequester corrects who asked: name, email and phone. The audit
// entry (request.requester) holds them before and after. A changed email
// is not verified by the old one's link: staff verify it.
func (db *RequestStore) UpdateRequester(ctx context.Context, actor store.Actor, id string, in Requester, region string) (*PrivacyRequest, error) {
	name := strings.TrimSpace(in.Name)
	if len(name) > 200 {
		return nil, errs.Invalid("requester_name", "is too long")
	}
	email, phone := strings.TrimSpace(in.Email), strings.TrimSpace(in.Phone)
	var err error
	if email != "" {
		if email, err = store.NormalizeEmail("requester_email", email); err != nil {
			return nil, err
		}
	}
	if phone != "" {
		p, err := store.NormalizeIdentifier("requester_phone", phone, region)
		if err != nil || p.Kind != store.KindPhone {
			return nil, errs.Invalid("requester_phone", "is not a valid phone number")
		}
		phone = p.Value
	}
	if email == "" && phone == "" {
		return nil, errs.Invalid("requester_email", "give an email or a phone number so the requester can be answered")
	}
	var out *PrivacyRequest
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		var err error
		out, err = UpdateRequest(tx, id, "request.requester", func(r *PrivacyRequest) (string, map[string]any, error) {
			before := map[string]any{"name": r.RequesterName, "email": r.RequesterEmail, "phone": r.RequesterPhone}
			after := map[string]any{"name": name, "email": email, "phone": phone}
			if r.RequesterName == name && r.RequesterEmail == email && r.RequesterPhone == phone {
				return "", nil, errs.Invalid("requester_name", "nothing to change")
			}
			r.RequesterName, r.RequesterEmail, r.RequesterPhone = name, email, phone
			return fmt.Sprintf("Requester corrected: %s %s %s.", name, email, phone), map[string]any{"before": before, "after": after}, nil
		})
		return err
	})
	return out, err
}
