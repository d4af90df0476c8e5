package contacts

import (
	"github.com/sendara/console/handlers/web"
	consent "github.com/sendara/console/models/consent"
	"github.com/sendara/console/views/contactpages"

	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
)

const contactPageSize = 50

func triState(v string) *bool {
	switch v {
	case "yes":
		t := true
		return &t
	case "no":
		f := false
		return &f
	}
	return nil
}

// contacts lists one keyset page; the list view, with its filter, is one
// audit event.
func (s *Handlers) contacts(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	f := consent.ContactFilter{Query: c.QueryParam("q"), Suppressed: triState(c.QueryParam("suppressed")),
		Restricted: triState(c.QueryParam("restricted")), After: c.QueryParam("after"), Limit: contactPageSize}
	if a.Staff() {
		f.CustomerID = c.QueryParam("customer")
	}
	list, more, err := s.DB.ListContacts(ctx, a, f, s.Cfg.Region)
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "contact.list", ObjectType: "contact", CustomerID: firstNonEmpty(f.CustomerID, a.CustomerID),
		Details: map[string]any{"q": f.Query, "suppressed": c.QueryParam("suppressed"), "restricted": c.QueryParam("restricted"),
			"after": f.After, "results": len(list)}}); err != nil {
		return err
	}
	p := contactpages.ContactList{Contacts: list, Query: f.Query, Suppressed: c.QueryParam("suppressed"), Restricted: c.QueryParam("restricted"),
		CustomerID: f.CustomerID, CanWrite: s.Allowed(c, "contacts", "write"), CanExport: s.Allowed(c, "contacts", "export"),
		ExportHref: "/exports/suppressions.csv", Loc: s.Cfg.Location}
	if f.CustomerID != "" {
		p.ExportHref += "?customer=" + url.QueryEscape(f.CustomerID)
	}
	if a.Staff() {
		if p.Customers, p.Options, err = s.CustomerChoices(c); err != nil {
			return err
		}
	}
	if more {
		q := c.QueryParams()
		q.Set("after", list[len(list)-1].ID)
		p.NextHref = "/contacts?" + q.Encode()
	}
	return s.Render(c, http.StatusOK, contactpages.Contacts(p))
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (s *Handlers) contactNew(c echo.Context) error {
	f := contactpages.ContactForm{}
	if web.Actor(c).Staff() {
		_, opts, err := s.CustomerChoices(c)
		if err != nil {
			return err
		}
		f.Options = opts
	}
	return s.Render(c, http.StatusOK, contactpages.ContactNew(f))
}

func contactInput(c echo.Context) consent.ContactInput {
	var ids []string
	for _, line := range strings.Split(c.FormValue("identifiers"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			ids = append(ids, line)
		}
	}
	return consent.ContactInput{Identifiers: ids, Name: c.FormValue("name"), CRMID: c.FormValue("crm_id")}
}

func (s *Handlers) contactCreate(c echo.Context) error {
	a := web.Actor(c)
	f := contactpages.ContactForm{Identifiers: c.FormValue("identifiers"), Name: c.FormValue("name"), CRMID: c.FormValue("crm_id"), CustomerID: a.CustomerID}
	if a.Staff() {
		f.CustomerID = c.FormValue("customer_id")
	}
	ct, err := s.DB.CreateContact(c.Request().Context(), a, f.CustomerID, contactInput(c), s.Cfg.Region)
	if err == nil {
		s.Flash(c, "Contact added.")
		return web.Redirect(c, "/contacts/"+ct.ID)
	}
	if f.Errors, err = web.FormErrors(err); err != nil {
		return err
	}
	if a.Staff() {
		if _, f.Options, err = s.CustomerChoices(c); err != nil {
			return err
		}
	}
	return s.Render(c, http.StatusUnprocessableEntity, contactpages.ContactNew(f))
}

// contact shows one contact; each view is an audit event.
func (s *Handlers) contact(c echo.Context) error {
	ct, err := s.DB.Contact(c.Request().Context(), web.Actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	// Staff state a purpose first (purpose.go); customer users are not asked.
	purpose, show, err := s.AccessPurpose(c, ct)
	if !show || err != nil {
		return err
	}
	var details map[string]any
	if purpose != nil {
		details = purpose.Details()
	}
	if err := s.DB.Record(c.Request().Context(), web.Actor(c), store.Audit{Action: "contact.view", ObjectType: "contact",
		ObjectID: ct.ID, CustomerID: ct.CustomerID, Details: details}); err != nil {
		return err
	}
	return s.renderContact(c, http.StatusOK, ct, contactFormOf(ct), contactpages.ConsentForm{})
}

func contactFormOf(ct *consent.Contact) contactpages.ContactForm {
	return contactpages.ContactForm{ID: ct.ID, Identifiers: strings.Join(ct.Values(), "\n"), Name: ct.Name, CRMID: ct.CRMID}
}

func (s *Handlers) renderContact(c echo.Context, status int, ct *consent.Contact, edit contactpages.ContactForm, form contactpages.ConsentForm) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	// A form posted back with a mistake shows the contact again: not to
	// staff whose purpose has lapsed.
	if _, show, err := s.AccessPurpose(c, ct); !show || err != nil {
		return err
	}
	states, err := s.DB.ContactStates(ctx, ct)
	if err != nil {
		return err
	}
	shown := *ct
	shown.OptedIn = nil
	for _, ch := range consent.Channels {
		if st, ok := states[ch]; ok && !st.Suppressed {
			shown.OptedIn = append(shown.OptedIn, ch)
		}
	}
	history, err := s.DB.ConsentHistory(ctx, a, ct)
	if err != nil {
		return err
	}
	replies, err := s.DB.ContactReplies(ctx, a, ct)
	if err != nil {
		return err
	}
	cust, err := s.DB.Customer(ctx, a, ct.CustomerID)
	if err != nil {
		return err
	}
	requests, err := s.DB.RequestsAbout(ctx, a, ct.Values())
	if err != nil {
		return err
	}
	return s.Render(c, status, contactpages.ContactPage(contactpages.ContactDetail{
		Contact: shown, Customer: cust.Name, States: states, History: history, Replies: replies, Requests: requests,
		CanWrite: s.Allowed(c, "contacts", "write"), Edit: edit, Consent: form,
		AtDefault: time.Now().In(s.Cfg.Location).Format("2006-01-02T15:04:05"), Loc: s.Cfg.Location,
	}))
}

func (s *Handlers) contactUpdate(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	ct, err := s.DB.Contact(ctx, a, c.Param("id"))
	if err != nil {
		return err
	}
	if _, err = s.DB.UpdateContact(ctx, a, ct.ID, contactInput(c), s.Cfg.Region); err == nil {
		s.Flash(c, "Changes saved.")
		return web.Redirect(c, "/contacts/"+ct.ID)
	}
	f := contactpages.ContactForm{ID: ct.ID, Identifiers: c.FormValue("identifiers"), Name: c.FormValue("name"), CRMID: c.FormValue("crm_id")}
	if f.Errors, err = web.FormErrors(err); err != nil {
		return err
	}
	return s.renderContact(c, http.StatusUnprocessableEntity, ct, f, contactpages.ConsentForm{})
}

// contactConsent records an opt-out or opt-in made by hand.
func (s *Handlers) contactConsent(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	ct, err := s.DB.Contact(ctx, a, c.Param("id"))
	if err != nil {
		return err
	}
	f := contactpages.ConsentForm{Kind: c.FormValue("kind"), Channel: c.FormValue("channel"), Evidence: c.FormValue("evidence"),
		EvidenceKind: c.FormValue("evidence_kind"), EvidenceRef: c.FormValue("evidence_ref"), CapturedBy: c.FormValue("captured_by"),
		OccurredAt: c.FormValue("occurred_at")}
	at, err := s.LocalTime("occurred_at", f.OccurredAt)
	if err == nil {
		var res *consent.ConsentResult
		res, err = s.DB.RecordConsent(ctx, a, ct.CustomerID, consent.ConsentInput{ContactID: ct.ID, Kind: f.Kind, Channel: f.Channel,
			Source: "manual", Evidence: f.Evidence, EvidenceKind: f.EvidenceKind, EvidenceRef: f.EvidenceRef, CapturedBy: f.CapturedBy,
			OccurredAt: at}, s.Cfg.Region)
		if err == nil {
			msg := "Recorded."
			switch {
			case res.Pending != nil:
				msg = "Not recorded yet: this opt-in reverses an opt-out the person made themselves, so a customer admin must approve it (Consent reversals). The person stays opted out until then."
			case !res.Changed:
				msg = "Nothing changed: the person was already in that state."
			}
			s.Flash(c, msg)
			return web.Redirect(c, "/contacts/"+ct.ID)
		}
	}
	if f.Errors, err = web.FormErrors(err); err != nil {
		return err
	}
	return s.renderContact(c, http.StatusUnprocessableEntity, ct, contactFormOf(ct), f)
}

// contactConsentAt answers the point-in-time question on the page.
func (s *Handlers) contactConsentAt(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	at, err := s.LocalTime("at", c.QueryParam("at"))
	if err != nil {
		return err
	}
	if at.IsZero() {
		at = time.Now().UTC()
	}
	res, err := s.DB.ConsentAtTime(ctx, a, c.Param("id"), at, c.QueryParam("channel"))
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "contact.consent_view", ObjectType: "contact", ObjectID: res.ContactID,
		CustomerID: res.CustomerID, Details: map[string]any{"at": at.Format(time.RFC3339), "channel": res.Channel}}); err != nil {
		return err
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		return s.Render(c, http.StatusOK, contactpages.ConsentAnswer(*res, s.Cfg.Location))
	}
	return s.Render(c, http.StatusOK, contactpages.ConsentAnswerPage(res.ContactID, *res, s.Cfg.Location))
}
