package cases

import (
	"fmt"
	"net/http"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/casepages"

	"github.com/labstack/echo/v4"
)

// evidenceRoutes are the auditor's evidence: a request's case file (a zip
// to take away and its print view), the auditor reports and the purpose
// of access.
func (s *Handlers) evidenceRoutes() []web.Route {
	get := http.MethodGet
	caseFile := web.Can("case_files", "read")
	return []web.Route{
		{Method: get, Path: "/requests/:id/case-file", Handler: s.caseFilePrint, Access: web.Permitted, Perm: caseFile},
		{Method: get, Path: "/requests/:id/case-file.zip", Handler: s.caseFileZip, Access: web.Permitted, Perm: caseFile},
		{Method: http.MethodPost, Path: "/contacts/:id/purpose", Handler: s.ContactPurpose, Access: web.Permitted, Perm: web.Can("contacts", "read")},
		{Method: get, Path: "/reports/audit", Handler: s.evidenceReports, Access: web.Permitted, Perm: web.Can("reports", "read")},
		{Method: get, Path: "/reports/audit/:name", Handler: s.evidenceReport, Access: web.Permitted, Perm: web.Can("reports", "read")},
		{Method: get, Path: "/reports/audit/:name/csv", Handler: s.evidenceReportCSV, Access: web.Permitted, Perm: web.Can("reports", "read")},
	}
}

// caseFileZip streams a request's case file as a zip. Taking it is an
// export of personal data: audited (request.case_file_export) before the
// first byte is sent.
func (s *Handlers) caseFileZip(c echo.Context) error {
	cf, err := s.DB.CaseFile(c.Request().Context(), web.Actor(c), c.Param("id"), "request.case_file_export")
	if err != nil {
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "application/zip")
	res.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="case-file-%s.zip"`, cf.Request.Reference))
	res.Header().Set("Cache-Control", "no-store")
	res.WriteHeader(http.StatusOK)
	if err := cf.WriteZip(res, s.Cfg.Location); err != nil {
		// The status is sent: the zip is cut short, which any unzip sees.
		s.Log.Error("case file cut short", "request_id", web.RequestID(c), "err", err)
	}
	return nil
}

// caseFilePrint shows the same case file as one page to print
// (request.case_file_view).
func (s *Handlers) caseFilePrint(c echo.Context) error {
	cf, err := s.DB.CaseFile(c.Request().Context(), web.Actor(c), c.Param("id"), "request.case_file_view")
	if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, casepages.CaseFilePage(casepages.CaseFileProps{File: cf, Loc: s.Cfg.Location}))
}
