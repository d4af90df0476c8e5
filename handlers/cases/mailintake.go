package cases

import (
	"net/http"
	"slices"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/casepages"

	"github.com/labstack/echo/v4"
	requests "github.com/sendara/console/models/requests"
)

// mailIntakeRoutes are the request page's mail intake actions: merging a
// duplicate and deciding on identifiers found in its mail.
func (s *Handlers) mailIntakeRoutes() []web.Route {
	return []web.Route{
		{Method: http.MethodPost, Path: "/requests/:id/merge", Handler: s.requestMerge, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: http.MethodPost, Path: "/requests/:id/proposals", Handler: s.requestProposal, Access: web.Permitted, Perm: web.Can("requests", "write")},
	}
}

// intakePanel gathers what mail intake tells about a request: references
// its mail named although the sender is no party of them, merges, and
// identifiers found in its mail.
func (s *Handlers) intakePanel(c echo.Context, r *requests.PrivacyRequest, mailsIn []casepages.MailIn) (casepages.RequestIntake, error) {
	ctx, a := c.Request().Context(), web.Actor(c)
	p := casepages.RequestIntake{RequestID: r.ID, Open: !requests.Closed(r.Status), CanWrite: a.Staff() && s.Allowed(c, "requests", "write")}
	for _, m := range mailsIn {
		if ref := m.Mail.MentionsReference; ref != "" && !slices.Contains(p.Mentions, ref) {
			p.Mentions = append(p.Mentions, ref)
		}
	}
	var err error
	if p.Duplicates, err = s.DB.DuplicatesOf(ctx, a, r.ID); err != nil {
		return p, err
	}
	p.Proposals, err = s.DB.IdentifierProposals(ctx, a, r.ID)
	return p, err
}

func (s *Handlers) requestMerge(c echo.Context) error {
	return s.requestAction(c, "Merged as a duplicate of "+c.FormValue("into")+".", func() error {
		return s.DB.MergeDuplicate(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("into"), c.FormValue("reason"))
	})
}

// requestProposal accepts or dismisses one identifier found in the
// request's mail.
func (s *Handlers) requestProposal(c echo.Context) error {
	accept := c.FormValue("decision") == "accept"
	done := "Identifier dismissed."
	if accept {
		done = "Identifier added to the request (not verified)."
	}
	return s.requestAction(c, done, func() error {
		return s.DB.DecideIdentifierProposal(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("value"), accept)
	})
}
