package api

import (
	"github.com/sendara/console/handlers/web"
	calendar "github.com/sendara/console/models/calendar"
	registers "github.com/sendara/console/models/registers"

	requests "github.com/sendara/console/models/requests"

	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
)

type requesterJSON struct {
	Name         string `json:"name"`
	Email        string `json:"email"`
	Phone        string `json:"phone"`
	Relationship string `json:"relationship"`
}

// requestJSON is a request as the API answers it (DESIGN §5).
type requestJSON struct {
	ID                 string         `json:"id"`
	Reference          string         `json:"reference"`
	Type               *string        `json:"type"`
	SuggestedType      *string        `json:"suggested_type"`
	Regime             string         `json:"regime"`
	Status             string         `json:"status"`
	Channel            string         `json:"channel"`
	Requester          requesterJSON  `json:"requester"`
	SubjectIdentifiers []string       `json:"subject_identifiers"`
	ReceivedAt         time.Time      `json:"received_at"`
	AckDueOn           *calendar.Date `json:"ack_due_on"`
	DueOn              calendar.Date  `json:"due_on"`
	ExtendedTo         *calendar.Date `json:"extended_to"`
	VerifiedAt         *time.Time     `json:"verified_at"`
	CompletedAt        *time.Time     `json:"completed_at"`
	Outcome            string         `json:"outcome"`
	DenialReason       string         `json:"denial_reason"`
}

func requestOut(r *requests.PrivacyRequest) requestJSON {
	out := requestJSON{ID: r.ID, Reference: r.Reference, Type: r.Type, Regime: r.Regime, Status: r.Status, Channel: r.Channel,
		Requester:          requesterJSON{Name: r.RequesterName, Email: r.RequesterEmail, Phone: r.RequesterPhone, Relationship: r.Relationship},
		SubjectIdentifiers: r.Identifiers(), ReceivedAt: r.ReceivedAt.UTC(), AckDueOn: r.AckDueOn, DueOn: r.DueOn,
		ExtendedTo: r.ExtendedTo, VerifiedAt: r.VerifiedAt, CompletedAt: r.CompletedAt, Outcome: r.Outcome, DenialReason: r.DenialReason}
	if r.SuggestedType != "" {
		suggested := r.SuggestedType
		// DESIGN §5 lists the request types a suggestion may name; an
		// account-compromise report (urgent on the pages, where it opens an
		// incident) is not a privacy request type, so the API says "other".
		if suggested == registers.SuggestedAccountCompromise {
			suggested = calendar.TypeOther
		}
		out.SuggestedType = &suggested
	}
	return out
}

type createRequestJSON struct {
	Type      string `json:"type"`
	Regime    string `json:"regime"`
	Requester struct {
		Name         string `json:"name"`
		Email        string `json:"email"`
		Phone        string `json:"phone"`
		Relationship string `json:"relationship"`
		Proof        string `json:"proof"`
	} `json:"requester"`
	SubjectIdentifiers []string `json:"subject_identifiers"`
	ReceivedAt         string   `json:"received_at"`
	Customer           string   `json:"customer"`
	Details            string   `json:"details"`
}

// apiCreateRequest records a request sent by a staff key.
func (s *Handlers) apiCreateRequest(c echo.Context) error {
	var req createRequestJSON
	if err := web.BindJSON(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Type) == "" {
		return &web.APIError{Status: http.StatusBadRequest, Msg: "type is required", Field: "type"}
	}
	if strings.TrimSpace(req.Regime) == "" {
		return &web.APIError{Status: http.StatusBadRequest, Msg: "regime is required: gdpr, uk_gdpr, ccpa or other", Field: "regime"}
	}
	at, err := web.ParseTime("received_at", req.ReceivedAt)
	if err != nil {
		return err
	}
	customerID := ""
	if req.Customer != "" {
		if customerID, err = s.TenantOf(c, req.Customer); err != nil {
			return err
		}
	}
	r, err := s.DB.CreateRequest(c.Request().Context(), web.APIActor(c), s.Cfg.Business, requests.RequestInput{
		Type: req.Type, Regime: req.Regime, Channel: "api", CustomerID: customerID, Details: req.Details, ReceivedAt: at,
		Identifiers: req.SubjectIdentifiers, Requester: requests.Requester{Name: req.Requester.Name, Email: req.Requester.Email,
			Phone: req.Requester.Phone, Relationship: req.Requester.Relationship, Proof: req.Requester.Proof},
	}, s.Cfg.Region)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, requestOut(r))
}

// apiRequest returns one request; reading it is audited.
func (s *Handlers) apiRequest(c echo.Context) error {
	ctx, a := c.Request().Context(), web.APIActor(c)
	r, err := s.DB.Request(ctx, a, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "request.view", ObjectType: "request", ObjectID: r.ID,
		Details: map[string]any{"via": "api", "reference": r.Reference}}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, requestOut(r))
}

// apiFindRequests lists the requests of a requester or subject email.
func (s *Handlers) apiFindRequests(c echo.Context) error {
	ctx, a := c.Request().Context(), web.APIActor(c)
	email := c.QueryParam("email")
	if email == "" {
		return &web.APIError{Status: http.StatusBadRequest, Msg: "email is required", Field: "email"}
	}
	rs, err := s.DB.RequestsByEmail(ctx, a, email)
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "request.search", ObjectType: "request",
		Details: map[string]any{"via": "api", "by": "email", "results": len(rs)}}); err != nil {
		return err
	}
	out := make([]requestJSON, len(rs))
	for i := range rs {
		out[i] = requestOut(&rs[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"requests": out})
}
