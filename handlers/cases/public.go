package cases

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/casepages"

	"github.com/labstack/echo/v4"
	requests "github.com/sendara/console/models/requests"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/views"
	"golang.org/x/time/rate"
)

// Public form limits: a few requests per address an hour is plenty for a
// person and little for a script.
const (
	publicFormBurst = 5
	publicFormEvery = 12 * time.Minute
)

func (s *Handlers) publicRequestForm(c echo.Context) error {
	return s.Render(c, http.StatusOK, casepages.PublicRequest(casepages.PublicRequestForm{Want: "access", Where: "other"}))
}

// publicRequestCreate takes a request from the public form. A filled
// honeypot field gets the same thanks and nothing is stored. The
// requester confirms the email by a link before the request counts as
// verified by email; an opt-out style request is acted on regardless.
func (s *Handlers) publicRequestCreate(c echo.Context) error {
	if wait := s.Limits.WaitN("public-form:"+c.RealIP(), rate.Every(publicFormEvery), publicFormBurst); wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return echo.NewHTTPError(http.StatusTooManyRequests, "Too many requests from your network address. Please try again in an hour, or write to our privacy mailbox.")
	}
	f := casepages.PublicRequestForm{Name: c.FormValue("name"), Email: c.FormValue("email"), Phone: c.FormValue("phone"),
		Relationship: c.FormValue("relationship"), Want: c.FormValue("want"), Where: c.FormValue("where"), About: c.FormValue("about"),
		Business: c.FormValue("business"), Details: c.FormValue("details")}
	if strings.TrimSpace(c.FormValue("website")) != "" {
		s.Log.Info("public request form: honeypot filled; nothing stored", "ip", c.RealIP())
		return s.Render(c, http.StatusOK, casepages.PublicRequestSent("PR-pending", false))
	}
	details := strings.TrimSpace(f.Details)
	if b := strings.TrimSpace(f.Business); b != "" {
		details = "Business named by the requester: " + b + "\n\n" + details
	}
	ids := lines(f.About)
	if f.Relationship == "" || f.Relationship == "end_user" {
		ids = append(ids, f.Email)
		if strings.TrimSpace(f.Phone) != "" {
			ids = append(ids, f.Phone)
		}
	}
	in := requests.RequestInput{Type: f.Want, SuggestedType: f.Want, Regime: f.Where, Channel: "web_form", Details: details,
		Identifiers: ids, Requester: requests.Requester{Name: f.Name, Email: f.Email, Phone: f.Phone, Relationship: f.Relationship,
			Proof: "to be provided: asked by email"}}
	if in.Requester.Relationship == "end_user" || in.Requester.Relationship == "" {
		in.Requester.Proof = ""
	}
	if strings.TrimSpace(f.Email) == "" {
		f.Errors = views.Errors{"requester.email": "is required: we send a link to confirm it"}
		return s.Render(c, http.StatusUnprocessableEntity, casepages.PublicRequest(f))
	}
	public := store.SystemProcess("public-form", "public request form").From(c.RealIP())
	r, err := s.DB.CreateRequestThen(c.Request().Context(), public, s.Cfg.Business, in, s.Cfg.Region, func(tx *store.Tx, r *requests.PrivacyRequest) error {
		return requests.SendVerificationLink(tx, r.ID, func(token string) string { return s.AbsURL("/privacy-request/confirm/" + token) })
	})
	if err != nil {
		if f.Errors, err = web.FormErrors(err); err != nil {
			return err
		}
		return s.Render(c, http.StatusUnprocessableEntity, casepages.PublicRequest(f))
	}
	return s.Render(c, http.StatusOK, casepages.PublicRequestSent(r.Reference, r.AsksToStop()))
}

// publicRequestConfirmPage shows the page an emailed confirmation link
// opens: a button that confirms. Following the link changes nothing, so a
// Mail scanner that fetches every link cannot use it up.
func (s *Handlers) publicRequestConfirmPage(c echo.Context) error {
	ref, err := s.DB.VerificationLinkFor(c.Request().Context(), c.Param("token"))
	if errors.Is(err, requests.ErrVerificationInvalid) {
		return s.Render(c, http.StatusNotFound, casepages.PublicMessage("Link not valid", err.Error()))
	} else if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, casepages.PublicRequestConfirm(ref))
}

// publicRequestConfirm spends an emailed confirmation link: the POST of
// the confirm button (CSRF-checked like every form).
func (s *Handlers) publicRequestConfirm(c echo.Context) error {
	r, err := s.DB.VerifyByLink(c.Request().Context(), c.Param("token"), c.RealIP())
	if errors.Is(err, requests.ErrVerificationInvalid) {
		return s.Render(c, http.StatusNotFound, casepages.PublicMessage("Link not valid", err.Error()))
	} else if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, casepages.PublicRequestConfirmed(r.Reference))
}
