package cases

import (
	"fmt"
	"io"
	"net/http"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/casepages"

	"github.com/labstack/echo/v4"
	errs "github.com/sendara/console/models/errs"
	requests "github.com/sendara/console/models/requests"
)

// The proof-of-authority routes (upload, check, audited download, the
// override) are in the route table, routes.go.

// proofPanel is the case page's proof-of-authority section (staff only,
// for requests made by an agent or a parent).
func (s *Handlers) proofPanel(c echo.Context, r *requests.PrivacyRequest) (casepages.ProofPanel, error) {
	ctx, a := c.Request().Context(), web.Actor(c)
	p := casepages.ProofPanel{RequestID: r.ID, Open: !requests.Closed(r.Status), Override: r.ProofOverride, Loc: s.Cfg.Location,
		Relationship: r.Relationship}
	if !a.Staff() || !r.NeedsProof() {
		return p, nil
	}
	p.Shown, p.CanWrite = true, s.Allowed(c, "requests", "write")
	var err error
	if p.Proofs, err = s.DB.Proofs(ctx, a, r.ID); err != nil {
		return p, err
	}
	p.Waiting, err = s.DB.ProofStanding(ctx, r)
	return p, err
}

func (s *Handlers) requestProofUpload(c echo.Context) error {
	return s.requestAction(c, "Proof uploaded; check it and record the outcome.", func() error {
		fh, err := c.FormFile("file")
		if err != nil {
			return errs.Invalid("file", "choose the file of the proof to upload")
		}
		if fh.Size > requests.MaxProofBytes {
			return errs.Invalid("file", "the file is larger than %d MiB", requests.MaxProofBytes>>20)
		}
		f, err := fh.Open()
		if err != nil {
			return err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, requests.MaxProofBytes+1))
		if err != nil {
			return errs.Invalid("file", "the file could not be read")
		}
		_, err = s.DB.UploadProof(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("kind"), fh.Filename, data)
		return err
	})
}

func (s *Handlers) requestProofCheck(c echo.Context) error {
	return s.requestAction(c, "Check of the proof recorded.", func() error {
		return s.DB.CheckProof(c.Request().Context(), web.Actor(c), c.Param("id"), c.Param("proof"), c.FormValue("kind"), c.FormValue("outcome"), c.FormValue("note"))
	})
}

func (s *Handlers) requestProofOverride(c echo.Context) error {
	return s.requestAction(c, "The request proceeds without a checked proof; the reason is recorded.", func() error {
		return s.DB.OverrideProof(c.Request().Context(), web.Actor(c), c.Param("id"), c.FormValue("override"))
	})
}

// requestProofDownload gives staff the proof's file; each download is
// audited (request.proof_download). Served as an attachment of the type
// its content was found to be, never rendered in the console's origin.
func (s *Handlers) requestProofDownload(c echo.Context) error {
	p, data, err := s.DB.ProofFile(c.Request().Context(), web.Actor(c), c.Param("id"), c.Param("proof"))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, p.FileName))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, p.ContentType, data)
}
