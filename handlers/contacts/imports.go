package contacts

import (
	"github.com/sendara/console/handlers/web"
	consent "github.com/sendara/console/models/consent"
	errs "github.com/sendara/console/models/errs"
	"github.com/sendara/console/views/contactpages"

	imports "github.com/sendara/console/models/imports"

	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/views"
)

// maxImportBytes bounds one uploaded file (the upload is stored in chunks
// as it arrives, so this limits storage, not memory).
const maxImportBytes = 1 << 30

// importRoutes are the CSV import and export routes (issue 3, items 5
// and 6); routes() appends them to the route table.
func (s *Handlers) importRoutes() []web.Route {
	get, post := http.MethodGet, http.MethodPost
	imp, exp := web.Can("contacts", "import"), web.Can("contacts", "export")
	return []web.Route{
		{Method: get, Path: "/imports", Handler: s.imports, Access: web.Permitted, Perm: imp},
		{Method: post, Path: "/imports", Handler: s.importUpload, Access: web.Permitted, Perm: imp},
		{Method: get, Path: "/imports/:id", Handler: s.importJob, Access: web.Permitted, Perm: imp},
		{Method: get, Path: "/imports/:id/progress", Handler: s.importProgress, Access: web.Permitted, Perm: imp},
		{Method: get, Path: "/imports/:id/row", Handler: s.importRow, Access: web.Permitted, Perm: imp},
		{Method: get, Path: "/imports/:id/bad-rows.csv", Handler: s.importBadRowsCSV, Access: web.Permitted, Perm: imp},
		{Method: post, Path: "/imports/:id/mapping", Handler: s.importRemap, Access: web.Permitted, Perm: imp},
		{Method: post, Path: "/imports/:id/start", Handler: s.importStart, Access: web.Permitted, Perm: imp},
		{Method: post, Path: "/imports/:id/discard", Handler: s.importDiscard, Access: web.Permitted, Perm: imp},
		{Method: post, Path: "/imports/:id/retry", Handler: s.importRetry, Access: web.Permitted, Perm: imp},
		{Method: get, Path: "/exports/suppressions.csv", Handler: s.exportSuppressions, Access: web.Permitted, Perm: exp},
		{Method: get, Path: "/exports/contacts.csv", Handler: s.exportContacts, Access: web.Permitted, Perm: exp},
	}
}

func (s *Handlers) importOptions() imports.ImportOptions {
	return imports.ImportOptions{Region: s.Cfg.Region, Location: s.Cfg.Location}
}

func (s *Handlers) imports(c echo.Context) error {
	return s.renderImports(c, http.StatusOK, contactpages.ImportForm{Channel: consent.ChannelAll})
}

func (s *Handlers) renderImports(c echo.Context, status int, f contactpages.ImportForm) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	jobs, more, err := s.DB.ImportJobs(ctx, a, imports.ImportFilter{Before: c.QueryParam("before")})
	if err != nil {
		return err
	}
	p := contactpages.ImportList{Jobs: jobs, Form: f, CanExport: s.Allowed(c, "contacts", "export"), Loc: s.Cfg.Location}
	if a.Staff() {
		if p.Customers, p.Options, err = s.CustomerChoices(c); err != nil {
			return err
		}
	}
	if more {
		p.OlderHref = "/imports?before=" + url.QueryEscape(jobs[len(jobs)-1].ID)
	}
	return s.Render(c, status, contactpages.Imports(p))
}

// importUpload stores and checks an upload, then shows its preview.
func (s *Handlers) importUpload(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	var job *imports.ImportJob
	var f contactpages.ImportForm
	err := readUpload(c, func(fields url.Values, name string, file io.Reader) error {
		f = contactpages.ImportForm{CustomerID: fields.Get("customer"), Kind: fields.Get("kind"), Channel: fields.Get("channel")}
		customerID := a.CustomerID
		if a.Staff() {
			customerID = f.CustomerID
		}
		var err error
		job, err = s.DB.CreateImport(ctx, a, imports.ImportUpload{CustomerID: customerID, Kind: f.Kind, FileName: name,
			Channel: f.Channel, File: file, MaxBytes: maxImportBytes}, s.importOptions())
		return err
	})
	if err == nil {
		return web.Redirect(c, "/imports/"+job.ID)
	}
	if f.Errors, err = web.FormErrors(err); err != nil {
		return err
	}
	return s.renderImports(c, http.StatusUnprocessableEntity, f)
}

// readUpload hands the form's fields and its file to fn. When the form was
// not parsed yet (htmx sends the CSRF token as a header), the file part is
// streamed straight from the request, so the form must send its fields
// before the file, as the upload form does. When the CSRF check already
// parsed the form (a plain form post carries the token as a field), Go has
// kept the file in memory up to 32 MiB and on disk beyond.
func readUpload(c echo.Context, fn func(fields url.Values, name string, file io.Reader) error) error {
	r := c.Request()
	if r.MultipartForm != nil {
		fields := url.Values(r.MultipartForm.Value)
		fhs := r.MultipartForm.File["file"]
		if len(fhs) == 0 {
			return fn(fields, "", nil)
		}
		file, err := fhs[0].Open()
		if err != nil {
			return fmt.Errorf("open the uploaded file: %w", err)
		}
		defer file.Close()
		return fn(fields, fhs[0].Filename, file)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return errs.Invalid("file", "choose a CSV file to upload")
	}
	fields := url.Values{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return fn(fields, "", nil)
		}
		if err != nil {
			return errs.Invalid("file", "the upload was cut short: send it again")
		}
		if part.FormName() == "file" {
			return fn(fields, part.FileName(), part)
		}
		if err := readField(part, fields); err != nil {
			return err
		}
	}
}

func readField(part *multipart.Part, fields url.Values) error {
	b, err := io.ReadAll(io.LimitReader(part, 4096))
	if err != nil {
		return errs.Invalid(part.FormName(), "could not be read: send the form again")
	}
	fields.Add(part.FormName(), string(b))
	return nil
}

// importJob shows a preview awaiting confirmation, or a job's progress and
// report. Another tenant's job is 404.
func (s *Handlers) importJob(c echo.Context) error {
	job, customer, err := s.loadImport(c)
	if err != nil {
		return err
	}
	// The page shows the file's rows and its bad values: identifiers.
	if err := s.DB.Record(c.Request().Context(), web.Actor(c), store.Audit{Action: "import.view", ObjectType: "import", ObjectID: job.ID,
		CustomerID: job.CustomerID, Details: map[string]any{"line": c.QueryParam("line")}}); err != nil {
		return err
	}
	return s.renderImportJob(c, http.StatusOK, job, customer, nil)
}

func (s *Handlers) loadImport(c echo.Context) (*imports.ImportJob, string, error) {
	ctx, a := c.Request().Context(), web.Actor(c)
	job, err := s.DB.ImportJob(ctx, a, c.Param("id"))
	if err != nil {
		return nil, "", err
	}
	customer := ""
	if a.Staff() {
		if cust, err := s.DB.Customer(ctx, a, job.CustomerID); err == nil {
			customer = cust.Name
		}
	}
	return job, customer, nil
}

func (s *Handlers) renderImportJob(c echo.Context, status int, job *imports.ImportJob, customer string, errs views.Errors) error {
	ctx := c.Request().Context()
	line, _ := strconv.ParseInt(c.QueryParam("line"), 10, 64)
	col := -2
	if v, err := strconv.Atoi(c.QueryParam("col")); err == nil {
		col = v
	}
	const page = 500
	// One more than a page tells whether another page follows, so the
	// last page offers no "More" that would open an empty one.
	problems, err := s.DB.ImportProblems(ctx, job, line, col, page+1)
	if err != nil {
		return err
	}
	more := ""
	if len(problems) > page {
		problems = problems[:page]
		last := problems[len(problems)-1]
		more = fmt.Sprintf("/imports/%s?line=%d&col=%d", job.ID, last.Line, last.Col)
	}
	if job.Status == imports.ImportPreview {
		earlier, err := s.DB.EarlierImports(ctx, web.Actor(c), job)
		if err != nil {
			return err
		}
		return s.Render(c, status, contactpages.ImportPreviewPage(contactpages.ImportPreview{Job: *job, Customer: customer, Problems: problems,
			MoreHref: more, Earlier: earlier, Errors: errs, Loc: s.Cfg.Location}))
	}
	return s.Render(c, status, contactpages.ImportJobPage(contactpages.ImportJobView{Job: *job, Customer: customer, Problems: problems,
		MoreHref: more, Loc: s.Cfg.Location}))
}

// importProgress is the job page's polled fragment. A file checked again
// under a new mapping comes back to preview: the page reloads to show it.
func (s *Handlers) importProgress(c echo.Context) error {
	job, err := s.DB.ImportJob(c.Request().Context(), web.Actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	if job.Status == imports.ImportPreview {
		c.Response().Header().Set("HX-Refresh", "true")
	}
	return s.Render(c, http.StatusOK, contactpages.ImportProgress(*job))
}

// importRow is the list's polled fragment for one job.
func (s *Handlers) importRow(c echo.Context) error {
	job, err := s.DB.ImportJob(c.Request().Context(), web.Actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	var customers map[string]string
	if web.Actor(c).Staff() {
		if customers, _, err = s.CustomerChoices(c); err != nil {
			return err
		}
	}
	return s.Render(c, http.StatusOK, contactpages.ImportRow(*job, customers, s.Cfg.Location))
}

// importBadRowsCSV downloads a job's bad rows, streamed a page at a time.
func (s *Handlers) importBadRowsCSV(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	job, err := s.DB.ImportJob(ctx, a, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "import.bad_rows_export", ObjectType: "import", ObjectID: job.ID,
		CustomerID: job.CustomerID, Details: map[string]any{"bad_rows": job.BadRows}}); err != nil {
		return err
	}
	out := web.StartCSV(c, "bad-rows-"+job.FileName, []string{"line", "column", "value", "reason"})
	err = s.DB.EachImportProblem(ctx, job, func(p imports.ImportProblem) error {
		return out.Write([]string{strconv.FormatInt(p.Line, 10), p.Field, imports.SpreadsheetSafe(p.Value), p.Reason})
	})
	if err = out.Close(err); err != nil {
		s.Log.Error("bad rows download interrupted", "request_id", web.RequestID(c), "import", job.ID, "err", err)
	}
	return nil
}

// importRemap checks the file again under the mapping chosen on the
// preview page.
func (s *Handlers) importRemap(c echo.Context) error {
	job, customer, err := s.loadImport(c)
	if err != nil {
		return err
	}
	m := imports.ImportMapping{Columns: job.Mapping.Columns, Fields: make([]string, len(job.Mapping.Columns)),
		Channel: c.FormValue("channel")}
	for i := range m.Fields {
		m.Fields[i] = c.FormValue(fmt.Sprintf("field_%d", i))
	}
	if _, err = s.DB.RemapImport(c.Request().Context(), web.Actor(c), job.ID, m, s.importOptions()); err == nil {
		s.Flash(c, "The file was checked again with your column mapping.")
		return web.Redirect(c, "/imports/"+job.ID)
	}
	errs, err := web.FormErrors(err)
	if err != nil {
		return err
	}
	job.Mapping.Fields, job.Mapping.Channel = m.Fields, m.Channel
	return s.renderImportJob(c, http.StatusUnprocessableEntity, job, customer, errs)
}

func (s *Handlers) importStart(c echo.Context) error {
	job, err := s.DB.StartImport(c.Request().Context(), web.Actor(c), c.Param("id"), "")
	if err != nil {
		return err
	}
	s.Flash(c, fmt.Sprintf("Import of %s started.", job.FileName))
	return web.Redirect(c, "/imports/"+job.ID)
}

func (s *Handlers) importDiscard(c echo.Context) error {
	if err := s.DB.CancelImport(c.Request().Context(), web.Actor(c), c.Param("id")); err != nil {
		return err
	}
	s.Flash(c, "The upload was discarded; nothing was imported.")
	return web.Redirect(c, "/imports")
}

func (s *Handlers) importRetry(c echo.Context) error {
	id := c.Param("id")
	if err := s.DB.RetryImport(c.Request().Context(), web.Actor(c), id); err != nil {
		return err
	}
	s.Flash(c, "The import was queued again; it resumes where it stopped.")
	return web.Redirect(c, "/imports/"+id)
}
