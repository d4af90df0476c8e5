package handlers

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sendara/console/views"
)

// evidenceRoutes are the auditor's evidence: a request's case file (a zip
// to take away and its print view), the auditor reports and the purpose
// of access.
func (s *Server) evidenceRoutes() []route {
	get := http.MethodGet
	caseFile := can("case_files", "read")
	return []route{
		{Method: get, Path: "/requests/:id/case-file", Handler: s.caseFilePrint, Access: permitted, Perm: caseFile},
		{Method: get, Path: "/requests/:id/case-file.zip", Handler: s.caseFileZip, Access: permitted, Perm: caseFile},
		{Method: http.MethodPost, Path: "/contacts/:id/purpose", Handler: s.contactPurpose, Access: permitted, Perm: can("contacts", "read")},
		{Method: get, Path: "/reports/audit", Handler: s.evidenceReports, Access: permitted, Perm: can("reports", "read")},
		{Method: get, Path: "/reports/audit/:name", Handler: s.evidenceReport, Access: permitted, Perm: can("reports", "read")},
		{Method: get, Path: "/reports/audit/:name/csv", Handler: s.evidenceReportCSV, Access: permitted, Perm: can("reports", "read")},
	}
}

// caseFileZip streams a request's case file as a zip. Taking it is an
// export of personal data: audited (request.case_file_export) before the
// first byte is sent.
func (s *Server) caseFileZip(c echo.Context) error {
	cf, err := s.db.CaseFile(c.Request().Context(), actor(c), c.Param("id"), "request.case_file_export")
	if err != nil {
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "application/zip")
	res.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="case-file-%s.zip"`, cf.Request.Reference))
	res.Header().Set("Cache-Control", "no-store")
	res.WriteHeader(http.StatusOK)
	if err := cf.WriteZip(res, s.cfg.Location); err != nil {
		// The status is sent: the zip is cut short, which any unzip sees.
		s.log.Error("case file cut short", "request_id", requestID(c), "err", err)
	}
	return nil
}

// caseFilePrint shows the same case file as one page to print
// (request.case_file_view).
func (s *Server) caseFilePrint(c echo.Context) error {
	cf, err := s.db.CaseFile(c.Request().Context(), actor(c), c.Param("id"), "request.case_file_view")
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.CaseFilePage(views.CaseFileProps{File: cf, Loc: s.cfg.Location}))
}
