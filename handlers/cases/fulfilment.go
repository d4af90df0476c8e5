package cases

import (
	"github.com/sendara/console/handlers/web"
	consent "github.com/sendara/console/models/consent"
	errs "github.com/sendara/console/models/errs"
	"github.com/sendara/console/views/casepages"

	fulfilment "github.com/sendara/console/models/fulfilment"

	requests "github.com/sendara/console/models/requests"

	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
)

// fulfilmentRoutes carry out a request on the controllers' instructions
// (issue 4, item 7): access bundles, erasure, rectification and legal
// holds from the case page, and the bundle's download link, which is
// Public: its 32-byte random token is the credential.
func (s *Handlers) fulfilmentRoutes() []web.Route {
	get, post := http.MethodGet, http.MethodPost
	execute := web.Can("requests", "execute")
	return []web.Route{
		{Method: post, Path: "/requests/:id/export", Handler: s.requestExport, Access: web.Permitted, Perm: execute},
		{Method: post, Path: "/requests/:id/erase", Handler: s.requestErase, Access: web.Permitted, Perm: execute},
		{Method: post, Path: "/requests/:id/rectify", Handler: s.requestRectify, Access: web.Permitted, Perm: execute},
		{Method: post, Path: "/requests/:id/holds", Handler: s.requestHold, Access: web.Permitted, Perm: execute},
		{Method: post, Path: "/requests/:id/holds/:hold/release", Handler: s.requestReleaseHold, Access: web.Permitted, Perm: execute},
		{Method: post, Path: "/requests/:id/exports/:export/reissue", Handler: s.requestReissueExport, Access: web.Permitted, Perm: execute},
		{Method: get, Path: "/exports/requests/:token", Handler: s.exportDownload, Access: web.Public},
	}
}

// newExportKey carries a bundle just made from requestExport to the case
// page it renders, the one place its link is ever shown.
const newExportKey = "fulfilment.new_export"

// fulfilmentPanel is the case page's fulfilment section.
func (s *Handlers) fulfilmentPanel(c echo.Context, r *requests.PrivacyRequest) (casepages.FulfilmentPanel, error) {
	ctx, a := c.Request().Context(), web.Actor(c)
	p := casepages.FulfilmentPanel{RequestID: r.ID, Now: store.Now(), Loc: s.Cfg.Location}
	if !a.Staff() {
		return p, nil
	}
	st, err := s.DB.Fulfilment(ctx, a, r)
	if err != nil {
		return p, err
	}
	p.Shown, p.Instructed, p.Subjects, p.Exports = true, st.Instructed, st.Subjects, st.Exports
	p.CanExecute = s.Allowed(c, "requests", "execute")
	inProgress := r.Status == requests.StatusInProgress
	p.CanExport = inProgress && slices.Contains(fulfilment.ExportTypes, r.TypeOr(""))
	p.CanErase = inProgress && slices.Contains(fulfilment.ErasureTypes, r.TypeOr(""))
	p.CanRectify = inProgress && slices.Contains(fulfilment.RectifyTypes, r.TypeOr(""))
	p.Customers = map[string]string{}
	for _, sd := range st.Subjects {
		p.Customers[sd.Customer.ID] = sd.Customer.Name
	}
	if b, ok := c.Get(newExportKey).(*fulfilment.Bundle); ok {
		p.NewLink = s.bundleLink(b.Token)
		p.NewExpires = &b.Export.ExpiresAt
	}
	return p, nil
}

// fulfilmentAction runs one fulfilment step and goes back to the case
// (303) with the message done gives.
func (s *Handlers) fulfilmentAction(c echo.Context, done func() string, step func() error) error {
	if err := step(); err != nil {
		return s.fulfilmentRefused(c, err)
	}
	s.Flash(c, done())
	return web.Redirect(c, "/requests/"+c.Param("id"))
}

// fulfilmentRefused shows the case page again with the reason a step was
// refused: 409 when the request's state forbids it, 422 for bad input.
func (s *Handlers) fulfilmentRefused(c echo.Context, cause error) error {
	status := http.StatusUnprocessableEntity
	if _, ok := errs.AsConflict(cause); ok {
		status = http.StatusConflict
	}
	errs, err := web.FormErrors(cause)
	if err != nil {
		return err
	}
	r, err := s.DB.Request(c.Request().Context(), web.Actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	if _, ok := errs[""]; !ok {
		for _, msg := range errs {
			errs[""] = msg
		}
	}
	return s.renderRequest(c, status, r, errs, nil)
}

// requestExport prepares an access bundle and shows its link once, in the
// response to the POST: only the token's hash is stored, so there is no
// page to redirect to.
func (s *Handlers) requestExport(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	b, err := s.DB.ExportBundleFor(ctx, a, c.Param("id"), c.FormValue("for"))
	if err != nil {
		return s.fulfilmentRefused(c, err)
	}
	r, err := s.DB.Request(ctx, a, c.Param("id"))
	if err != nil {
		return err
	}
	c.Set(newExportKey, b)
	return s.renderRequest(c, http.StatusOK, r, nil, nil)
}

// bundleLink is the download URL of a bundle link's token.
func (s *Handlers) bundleLink(token string) string { return s.AbsURL("/exports/requests/" + token) }

// requestReissueExport gives a bundle a new single-use link and shows it
// once, like a new bundle's; the old link stops working.
func (s *Handlers) requestReissueExport(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	token, expires, err := s.DB.ReissueExportLink(ctx, a, c.Param("id"), c.Param("export"))
	if err != nil {
		return s.fulfilmentRefused(c, err)
	}
	r, err := s.DB.Request(ctx, a, c.Param("id"))
	if err != nil {
		return err
	}
	c.Set(newExportKey, &fulfilment.Bundle{Token: token, Export: fulfilment.RequestExport{ID: c.Param("export"), ExpiresAt: expires}})
	return s.renderRequest(c, http.StatusOK, r, nil, nil)
}

func (s *Handlers) requestErase(c echo.Context) error {
	var res *fulfilment.ErasureResult
	return s.fulfilmentAction(c, func() string {
		return fmt.Sprintf("Erased: %d contact(s), %d consent event(s), %d reply(ies), %d communication record(s). Kept under legal hold: %d.",
			res.Deleted["contacts"], res.Deleted["consent_events"], res.Deleted["inbound_replies"], res.Deleted["communications"], res.KeptUnderHold)
	}, func() error {
		var err error
		res, err = s.DB.EraseSubject(c.Request().Context(), web.Actor(c), c.Param("id"))
		return err
	})
}

func (s *Handlers) requestRectify(c echo.Context) error {
	return s.fulfilmentAction(c, func() string { return "Contact corrected; the before and after are in the audit log." }, func() error {
		_, err := s.DB.Rectify(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("contact_id"), consent.ContactInput{
			Name: c.FormValue("name"), CRMID: c.FormValue("crm_id"), Identifiers: lines(c.FormValue("identifiers"))}, s.Cfg.Region)
		return err
	})
}

func (s *Handlers) requestHold(c echo.Context) error {
	n := 0
	return s.fulfilmentAction(c, func() string { return fmt.Sprintf("Legal hold placed on %d contact(s).", n) }, func() error {
		var err error
		n, err = s.DB.HoldSubject(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("reason"))
		return err
	})
}

func (s *Handlers) requestReleaseHold(c echo.Context) error {
	return s.fulfilmentAction(c, func() string { return "Legal hold released; the next erasure removes what it kept." }, func() error {
		_, err := s.DB.ReleaseHold(c.Request().Context(), web.Actor(c), c.Param("id"), c.Param("hold"))
		return err
	})
}

// exportDownload serves a bundle to whoever holds its link, until it
// expires (404 after, like an unknown link). Each download is audited; a
// caller who is not signed in is recorded as the link's holder, with the
// address it came from.
func (s *Handlers) exportDownload(c echo.Context) error {
	a := web.Actor(c)
	if web.CurrentUser(c) == nil {
		a = store.SystemProcess("export-link", "holder of the export link").From(c.RealIP())
	}
	e, err := s.DB.DownloadExport(c.Request().Context(), a, c.Param("token"))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.zip"`, e.Reference, e.CreatedAt.UTC().Format(time.DateOnly)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex")
	return c.Blob(http.StatusOK, "application/zip", e.Data)
}
