package cases

import (
	"github.com/sendara/console/handlers/web"
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"
	"github.com/sendara/console/views/casepages"

	fulfilment "github.com/sendara/console/models/fulfilment"

	outbox "github.com/sendara/console/models/outbox"

	requests "github.com/sendara/console/models/requests"

	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/sendara/console/mailbox"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/views"
)

func (s *Handlers) today() calendar.Date { return s.Cfg.Business.Today() }

func (s *Handlers) staffNames(c echo.Context) (map[string]string, error) {
	us, err := s.DB.Users(c.Request().Context(), store.SystemActor(""))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, u := range us {
		if u.CustomerID == nil {
			out[u.ID] = u.Email
		}
	}
	return out, nil
}

func (s *Handlers) requestNew(c echo.Context) error {
	_, opts, err := s.CustomerChoices(c)
	if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, casepages.RequestNew(casepages.RequestForm{Type: calendar.TypeAccess, Regime: calendar.RegimeGDPR, Options: opts}))
}

func (s *Handlers) requestCreate(c echo.Context) error {
	f := casepages.RequestForm{Type: c.FormValue("type"), Regime: c.FormValue("regime"), Name: c.FormValue("requester_name"),
		Email: c.FormValue("requester_email"), Phone: c.FormValue("requester_phone"), Relationship: c.FormValue("relationship"),
		Proof: c.FormValue("proof"), Identifiers: c.FormValue("subject_identifiers"), CustomerID: c.FormValue("customer_id"),
		ReceivedAt: c.FormValue("received_at"), Details: c.FormValue("details")}
	at, err := s.LocalTime("received_at", f.ReceivedAt)
	if err == nil {
		var r *requests.PrivacyRequest
		r, err = s.DB.CreateRequest(c.Request().Context(), web.Actor(c), s.Cfg.Business, requests.RequestInput{
			Type: f.Type, Regime: f.Regime, Channel: "manual", CustomerID: f.CustomerID, Details: f.Details, ReceivedAt: at,
			Identifiers: lines(f.Identifiers), Requester: requests.Requester{Name: f.Name, Email: f.Email, Phone: f.Phone,
				Relationship: f.Relationship, Proof: f.Proof},
		}, s.Cfg.Region)
		if err == nil {
			s.Flash(c, "Request "+r.Reference+" recorded. Due "+r.DueOn.String()+".")
			return web.Redirect(c, "/requests/"+r.ID)
		}
	}
	if f.Errors, err = web.FormErrors(err); err != nil {
		return err
	}
	if _, f.Options, err = s.CustomerChoices(c); err != nil {
		return err
	}
	return s.Render(c, http.StatusUnprocessableEntity, casepages.RequestNew(f))
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// request shows the case file; each view is audited.
func (s *Handlers) request(c echo.Context) error {
	r, err := s.DB.Request(c.Request().Context(), web.Actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.DB.Record(c.Request().Context(), web.Actor(c), store.Audit{Action: "request.view", ObjectType: "request",
		ObjectID: r.ID, CustomerID: derefStr(r.CustomerID), Details: map[string]any{"reference": r.Reference}}); err != nil {
		return err
	}
	return s.renderRequest(c, http.StatusOK, r, nil, nil)
}

func derefStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Handlers) renderRequest(c echo.Context, status int, r *requests.PrivacyRequest, errs views.Errors, matches []requests.PersonMatch) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	timeline, err := s.DB.Timeline(ctx, r)
	if err != nil {
		return err
	}
	tasks, err := s.DB.Tasks(ctx, a, r.ID)
	if err != nil {
		return err
	}
	names, _, err := s.CustomerChoices(c)
	if err != nil {
		return err
	}
	users, err := s.DB.Users(ctx, a)
	if err != nil {
		return err
	}
	var staff []accounts.User
	assignee := ""
	for _, u := range users {
		if u.CustomerID == nil && !u.Disabled() {
			staff = append(staff, u)
		}
		if r.AssigneeID != nil && u.ID == *r.AssigneeID {
			assignee = u.Email
		}
	}
	panel, err := s.fulfilmentPanel(c, r)
	if err != nil {
		return err
	}
	mailsIn, mailsOut, err := s.requestMails(c, r)
	if err != nil {
		return err
	}
	intake, err := s.intakePanel(c, r, mailsIn)
	if err != nil {
		return err
	}
	proofs, err := s.proofPanel(c, r)
	if err != nil {
		return err
	}
	idents, err := s.DB.SubjectIdentifiers(ctx, r)
	if err != nil {
		return err
	}
	messages, err := s.messagesPanel(c, r, errs)
	if err != nil {
		return err
	}
	var outcome *fulfilment.Outcome
	if a.Staff() && !requests.Closed(r.Status) {
		if outcome, err = s.DB.Outcome(ctx, a, r); err != nil {
			return err
		}
	}
	return s.Render(c, status, casepages.RequestPage(casepages.RequestDetail{Request: *r, MailsIn: mailsIn, MailsOut: mailsOut, Timeline: timeline, Tasks: tasks, Customers: names,
		Staff: staff, Assignee: assignee, Today: s.today(), CanWrite: s.Allowed(c, "requests", "write"),
		CanExecute: s.Allowed(c, "requests", "execute"), Matches: matches, Searched: matches != nil, Errors: errs, Loc: s.Cfg.Location,
		Fulfilment: panel, Outcome: outcome, Identifiers: idents, Intake: intake, Proofs: proofs,
		Messages: messages, MessagesShown: a.Staff(),
		CaseFile: s.Allowed(c, "case_files", "read")}))
}

// requestMails lists the messages received for and sent about a request;
// each received one is parsed again for its attachments' names.
func (s *Handlers) requestMails(c echo.Context, r *requests.PrivacyRequest) ([]casepages.MailIn, []outbox.OutboxMail, error) {
	ctx, a := c.Request().Context(), web.Actor(c)
	in, err := s.DB.InboundMails(ctx, a, outbox.InboundFilter{RequestID: r.ID, Limit: 50})
	if err != nil {
		return nil, nil, err
	}
	mailsIn := make([]casepages.MailIn, len(in))
	for i, m := range in {
		mailsIn[i].Mail = m
		raw, err := s.DB.InboundRaw(ctx, a, m.ID)
		if err != nil {
			return nil, nil, err
		}
		if msg, err := mailbox.Parse(raw); err == nil {
			for _, att := range msg.Attachments {
				mailsIn[i].Attachments = append(mailsIn[i].Attachments, att.Name)
			}
		}
	}
	out, err := s.DB.Outbox(ctx, a, outbox.OutboxFilter{RequestID: r.ID, Limit: 50})
	return mailsIn, out, err
}

// requestMailRaw shows a received message's source: the evidence as it
// arrived. Reading it is audited.
func (s *Handlers) requestMailRaw(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	r, err := s.DB.Request(ctx, a, c.Param("id"))
	if err != nil {
		return err
	}
	in, err := s.DB.InboundMails(ctx, a, outbox.InboundFilter{RequestID: r.ID, Limit: 500})
	if err != nil {
		return err
	}
	for _, m := range in {
		if m.ID != c.Param("mail") {
			continue
		}
		raw, err := s.DB.InboundRaw(ctx, a, m.ID)
		if err != nil {
			return err
		}
		if err := s.DB.Record(ctx, a, store.Audit{Action: "mail.view_raw", ObjectType: "mail", ObjectID: m.ID,
			Details: map[string]any{"reference": r.Reference}}); err != nil {
			return err
		}
		c.Response().Header().Set("Content-Disposition", `inline; filename="`+r.Reference+`.eml"`)
		return c.Blob(http.StatusOK, "text/plain; charset=utf-8", raw)
	}
	return echo.ErrNotFound
}

// requestAction runs one change on a request and shows the case page
// again: 303 on success, the page with the message beside the form on
// bad input.
func (s *Handlers) requestAction(c echo.Context, done string, change func() error) error {
	if err := change(); err != nil {
		errs, err := web.FormErrors(err)
		if err != nil {
			return err
		}
		r, rerr := s.DB.Request(c.Request().Context(), web.Actor(c), c.Param("id"))
		if rerr != nil {
			return rerr
		}
		if _, ok := errs[""]; !ok && len(errs) == 1 {
			for field, msg := range errs {
				errs[""] = field + ": " + msg
			}
		}
		return s.renderRequest(c, http.StatusUnprocessableEntity, r, errs, nil)
	}
	s.Flash(c, done)
	return web.Redirect(c, "/requests/"+c.Param("id"))
}

func (s *Handlers) requestTriage(c echo.Context) error {
	return s.requestAction(c, "Type set; deadlines computed again.", func() error {
		_, err := s.DB.Triage(c.Request().Context(), web.Actor(c), s.Cfg.Business, c.Param("id"), c.FormValue("type"), c.FormValue("regime"))
		return err
	})
}

func (s *Handlers) requestVerify(c echo.Context) error {
	return s.requestAction(c, "Requester verified.", func() error {
		_, err := s.DB.VerifyManually(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("method"), c.FormValue("note"))
		return err
	})
}

func (s *Handlers) requestVerifyIdentifier(c echo.Context) error {
	return s.requestAction(c, "Identifier verified; search, routing and fulfilment now use it.", func() error {
		return s.DB.VerifyIdentifier(c.Request().Context(), web.Actor(c), s.Cfg.Business, c.Param("id"), c.FormValue("value"), c.FormValue("method"), c.FormValue("note"), s.AbsURL("/inbox"))
	})
}

// requestIdentifiers adds one identifier (add) or removes one (remove).
func (s *Handlers) requestIdentifiers(c echo.Context) error {
	return s.requestAction(c, "Identifiers changed; an added one is unverified until verified.", func() error {
		var add, remove []string
		if v := strings.TrimSpace(c.FormValue("add")); v != "" {
			add = []string{v}
		}
		if v := c.FormValue("remove"); v != "" {
			remove = []string{v}
		}
		_, err := s.DB.SetIdentifiers(c.Request().Context(), web.Actor(c), c.Param("id"), add, remove, s.Cfg.Region)
		return err
	})
}

func (s *Handlers) requestRequester(c echo.Context) error {
	return s.requestAction(c, "Requester corrected.", func() error {
		_, err := s.DB.UpdateRequester(c.Request().Context(), web.Actor(c), c.Param("id"), requests.Requester{Name: c.FormValue("requester_name"),
			Email: c.FormValue("requester_email"), Phone: c.FormValue("requester_phone")}, s.Cfg.Region)
		return err
	})
}

func (s *Handlers) requestSkipVerification(c echo.Context) error {
	return s.requestAction(c, "Verification skipped; the reason is on record.", func() error {
		_, err := s.DB.SkipVerification(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("reason"))
		return err
	})
}

func (s *Handlers) requestStatus(c echo.Context) error {
	return s.requestAction(c, "Status changed.", func() error {
		_, err := s.DB.ChangeStatus(c.Request().Context(), web.Actor(c), c.Param("id"), fulfilment.StatusChange{To: c.FormValue("to"),
			Note: c.FormValue("note"), Override: c.FormValue("override"), LinkFor: s.bundleLink})
		return err
	})
}

func (s *Handlers) requestResendCompletion(c echo.Context) error {
	return s.requestAction(c, "Completion mail sent again, with a new bundle link where there is one.", func() error {
		return s.DB.ResendCompletion(c.Request().Context(), web.Actor(c), c.Param("id"), s.bundleLink)
	})
}

func (s *Handlers) requestExtend(c echo.Context) error {
	return s.requestAction(c, "Deadline extended; the requester is told the reasons.", func() error {
		_, err := s.DB.Extend(c.Request().Context(), web.Actor(c), s.Cfg.Business, c.Param("id"), c.FormValue("reason"))
		return err
	})
}

func (s *Handlers) requestAsk(c echo.Context) error {
	return s.requestAction(c, "Question mailed; the clock is stopped until the requester answers.", func() error {
		_, err := s.DB.AskRequester(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("question"))
		return err
	})
}

func (s *Handlers) requestAnswered(c echo.Context) error {
	return s.requestAction(c, "The clock runs again; the due date moved by the days paused.", func() error {
		_, err := s.DB.RequesterAnswered(c.Request().Context(), web.Actor(c), s.Cfg.Business, c.Param("id"), c.FormValue("note"))
		return err
	})
}

func (s *Handlers) requestAssign(c echo.Context) error {
	return s.requestAction(c, "Assigned.", func() error {
		return s.DB.Assign(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("assignee"))
	})
}

func (s *Handlers) requestNote(c echo.Context) error {
	return s.requestAction(c, "Note added.", func() error {
		return s.DB.AddNote(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("note"))
	})
}

func (s *Handlers) requestRoute(c echo.Context) error {
	return s.requestAction(c, "Routed; see the timeline for who was told.", func() error {
		_, err := s.DB.Route(c.Request().Context(), web.Actor(c), s.Cfg.Business, c.Param("id"), s.AbsURL("/inbox"))
		return err
	})
}

// requestSearch finds which customers hold the person; with htmx only the
// matches are returned.
func (s *Handlers) requestSearch(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	r, err := s.DB.Request(ctx, a, c.Param("id"))
	if err != nil {
		return err
	}
	// Only verified identifiers are searched (opt-outs aside).
	values, err := s.DB.UsableIdentifiers(ctx, r)
	if err != nil {
		return err
	}
	matches := []requests.PersonMatch{}
	if len(values) > 0 {
		if matches, err = s.DB.FindPerson(ctx, a, r.ID, values, s.Cfg.Region); err != nil {
			return err
		}
	}
	if matches == nil {
		matches = []requests.PersonMatch{}
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		return s.Render(c, http.StatusOK, casepages.PersonMatches(matches))
	}
	return s.renderRequest(c, http.StatusOK, r, nil, matches)
}

// inbox is a customer admin's "Requests from Sendara".
func (s *Handlers) inbox(c echo.Context) error {
	return s.renderInbox(c, http.StatusOK, "", "", nil)
}

// renderInbox shows the inbox; a refused answer keeps its form open with
// the message beside it and the text typed (taskID, reason, errs).
func (s *Handlers) renderInbox(c echo.Context, status int, taskID, reason string, errs views.Errors) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	tasks, err := s.DB.Inbox(ctx, a, true)
	if err != nil {
		return err
	}
	items := make([]casepages.InboxItem, 0, len(tasks))
	for _, t := range tasks {
		r, err := s.DB.Request(ctx, a, t.RequestID)
		if err != nil {
			return err
		}
		item := casepages.InboxItem{Task: t, Request: *r}
		if t.ID == taskID {
			item.Reason, item.Errors = reason, errs
		}
		items = append(items, item)
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "request.inbox_view", ObjectType: "request", CustomerID: a.CustomerID,
		Details: map[string]any{"results": len(items)}}); err != nil {
		return err
	}
	return s.Render(c, status, casepages.Inbox(casepages.InboxPage{Items: items, CanAnswer: s.Allowed(c, "routed_requests", "answer"),
		Today: s.today(), Loc: s.Cfg.Location}))
}

func (s *Handlers) inboxAnswer(c echo.Context) error {
	_, err := s.DB.AnswerTask(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("decision"), c.FormValue("reason"))
	if err != nil {
		errs, err := web.FormErrors(err)
		if err != nil {
			return err
		}
		for field, msg := range errs {
			if field != "reason" {
				errs[""] = msg
			}
		}
		return s.renderInbox(c, http.StatusUnprocessableEntity, c.Param("id"), c.FormValue("reason"), errs)
	}
	s.Flash(c, "Answer recorded; Sendara acts on it.")
	return web.Redirect(c, "/inbox")
}
