package cases

import (
	"time"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/casepages"

	errs "github.com/sendara/console/models/errs"
	fulfilment "github.com/sendara/console/models/fulfilment"

	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	requests "github.com/sendara/console/models/requests"
	"github.com/sendara/console/rbac"
	"github.com/sendara/console/views"
	"golang.org/x/time/rate"
)

// requesterRoutes: staff write to the requester from the request page,
// and the requester's status page, reached by the secret link every mail
// to them carries (public; the token is the only key).
func (s *Handlers) requesterRoutes() []web.Route {
	get, post := http.MethodGet, http.MethodPost
	return []web.Route{
		{Method: post, Path: "/requests/:id/messages", Handler: s.requestWrite, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: get, Path: "/requests/:id/message-files/:file", Handler: s.requestMessageFile, Access: web.Permitted, Perm: web.Can("requests", "write")},
		{Method: get, Path: "/my-request/:token", Handler: s.requesterStatus, Access: web.Public, Perm: rbac.Permission{}},
		{Method: post, Path: "/my-request/:token", Handler: s.requesterReply, Access: web.Public, Perm: rbac.Permission{}},
		{Method: post, Path: "/my-request/:token/bundle", Handler: s.requesterBundle, Access: web.Public, Perm: rbac.Permission{}},
		{Method: get, Path: "/my-request/:token/files/:file", Handler: s.requesterFile, Access: web.Public, Perm: rbac.Permission{}},
	}
}

// formFiles reads the uploaded files of field, each at most
// models.MaxMessageFileBytes.
func formFiles(c echo.Context, field string) ([]fulfilment.MessageFile, error) {
	form, err := c.MultipartForm()
	if err != nil || form.File[field] == nil {
		return nil, nil
	}
	var out []fulfilment.MessageFile
	for _, fh := range form.File[field] {
		if fh.Size == 0 && fh.Filename == "" {
			continue
		}
		if len(out) >= fulfilment.MaxMessageFiles {
			return nil, errs.Invalid("files", "attach at most %d files", fulfilment.MaxMessageFiles)
		}
		if fh.Size > fulfilment.MaxMessageFileBytes {
			return nil, errs.Invalid("files", "%s is larger than %d MiB", fh.Filename, fulfilment.MaxMessageFileBytes>>20)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, errs.Invalid("files", "%s could not be read", fh.Filename)
		}
		data, err := io.ReadAll(io.LimitReader(f, fulfilment.MaxMessageFileBytes+1))
		f.Close()
		if err != nil {
			return nil, errs.Invalid("files", "%s could not be read", fh.Filename)
		}
		out = append(out, fulfilment.MessageFile{Name: fh.Filename, Data: data})
	}
	return out, nil
}

func (s *Handlers) requestWrite(c echo.Context) error {
	return s.requestAction(c, "Message queued to the requester; it is on this page and on their status page.", func() error {
		files, err := formFiles(c, "files")
		if err != nil {
			return err
		}
		_, err = s.DB.WriteToRequester(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("template"), c.FormValue("subject"), c.FormValue("body"), files)
		return err
	})
}

// sendFile serves a stored attachment as a download of the type its
// content was found to be, never rendered in the console's origin.
func sendFile(c echo.Context, f *fulfilment.RequestMessageFile, data []byte) error {
	h := c.Response().Header()
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, f.FileName))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, f.ContentType, data)
}

// requestMessageFile: staff download an attachment (audited).
func (s *Handlers) requestMessageFile(c echo.Context) error {
	f, data, err := s.DB.MessageFileForStaff(c.Request().Context(), web.Actor(c), c.Param("id"), c.Param("file"))
	if err != nil {
		return err
	}
	return sendFile(c, f, data)
}

func (s *Handlers) statusLinkInvalid(c echo.Context) error {
	return s.Render(c, http.StatusNotFound, casepages.PublicMessage("Link not valid", fulfilment.ErrStatusLinkInvalid.Error()))
}

// renderStatus shows the status page (each view audited).
func (s *Handlers) renderStatus(c echo.Context, status int, body, notice string, errs views.Errors) error {
	v, err := s.DB.RequesterStatus(c.Request().Context(), c.Param("token"), c.RealIP())
	if errors.Is(err, fulfilment.ErrStatusLinkInvalid) {
		return s.statusLinkInvalid(c)
	} else if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	return s.Render(c, status, casepages.RequesterStatusPage(casepages.RequesterStatus{Token: c.Param("token"), View: *v,
		State: views.Label(views.LabelStatus, v.Request.Status), Paused: v.Request.Status == requests.StatusWaiting,
		Loc: s.Cfg.Location, Body: body, Errors: errs, Notice: notice}))
}

func (s *Handlers) requesterStatus(c echo.Context) error {
	notice := ""
	if c.QueryParam("sent") == "1" {
		notice = "Thank you: your message reached us."
	}
	return s.renderStatus(c, http.StatusOK, "", notice, nil)
}

// requesterReply takes the requester's answer from the status page: it
// joins the request's thread and restarts a stopped clock.
func (s *Handlers) requesterReply(c echo.Context) error {
	if wait := s.Limits.WaitN("status-reply:"+c.RealIP(), rate.Every(statusReplyEvery), statusReplyBurst); wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return echo.NewHTTPError(http.StatusTooManyRequests, "Too many messages from your network address. Please try again later, or answer our email.")
	}
	files, err := formFiles(c, "files")
	if err == nil {
		_, err = s.DB.RequesterReply(c.Request().Context(), s.Cfg.Business, c.Param("token"), c.FormValue("body"), c.RealIP(), files)
	}
	if errors.Is(err, fulfilment.ErrStatusLinkInvalid) {
		return s.statusLinkInvalid(c)
	}
	if err != nil {
		fieldErrs, ferr := web.FormErrors(err)
		if ferr != nil {
			return ferr
		}
		status := http.StatusUnprocessableEntity
		if _, ok := errs.AsConflict(err); ok {
			status = http.StatusConflict
		}
		return s.renderStatus(c, status, c.FormValue("body"), "", fieldErrs)
	}
	return web.Redirect(c, "/my-request/"+c.Param("token")+"?sent=1")
}

// requesterFile: the requester downloads an attachment (audited).
func (s *Handlers) requesterFile(c echo.Context) error {
	f, data, err := s.DB.MessageFileForRequester(c.Request().Context(), c.Param("token"), c.Param("file"), c.RealIP())
	if errors.Is(err, fulfilment.ErrStatusLinkInvalid) {
		return s.statusLinkInvalid(c)
	} else if err != nil {
		return err
	}
	return sendFile(c, f, data)
}

// requesterBundle sends the requester to a fresh single-use link of their
// ready bundle (the same expiry; the mailed link stops working).
func (s *Handlers) requesterBundle(c echo.Context) error {
	tok, err := s.DB.RequesterBundleLink(c.Request().Context(), c.Param("token"), c.RealIP())
	if errors.Is(err, fulfilment.ErrStatusLinkInvalid) {
		return s.statusLinkInvalid(c)
	} else if conflict, ok := errs.AsConflict(err); ok {
		return s.renderStatus(c, http.StatusConflict, "", "", views.Errors{"": conflict.Message})
	} else if err != nil {
		return err
	}
	return web.Redirect(c, s.bundleLink(tok))
}

// Replies from status pages: a few an hour per network address.
const (
	statusReplyBurst = 10
	statusReplyEvery = 6 * time.Minute
)

// MessagesPanel is the request page's section for writing to the
// requester; a refused POST keeps what was typed.
func (s *Handlers) messagesPanel(c echo.Context, r *requests.PrivacyRequest, errs views.Errors) (casepages.MessagesPanel, error) {
	ctx, a := c.Request().Context(), web.Actor(c)
	p := casepages.MessagesPanel{RequestID: r.ID, CanWrite: s.Allowed(c, "requests", "write"), Open: !requests.Closed(r.Status),
		HasEmail: r.RequesterEmail != "", CanAsk: requests.CanPause(r.Regime) == nil && r.Status != requests.StatusWaiting, Loc: s.Cfg.Location}
	if !a.Staff() {
		return p, nil
	}
	var err error
	if p.Messages, err = s.DB.RequestMessages(ctx, a, r.ID); err != nil {
		return p, err
	}
	if c.Request().Method == http.MethodPost && c.Path() == "/requests/:id/messages" {
		p.Template, p.Subject, p.Body, p.Errors = c.FormValue("template"), c.FormValue("subject"), c.FormValue("body"), errs
	} else {
		p.Template = c.QueryParam("compose")
		p.Subject, p.Body = fulfilment.MessageTemplateText(p.Template, r)
	}
	return p, nil
}
