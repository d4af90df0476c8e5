package handlers

import (
	consent "github.com/sendara/console/models/consent"
	errs "github.com/sendara/console/models/errs"

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
func (s *Server) importRoutes() []route {
	get, post := http.MethodGet, http.MethodPost
	imp, exp := can("contacts", "import"), can("contacts", "export")
	return []route{
		{Method: get, Path: "/imports", Handler: s.imports, Access: permitted, Perm: imp},
		{Method: post, Path: "/imports", Handler: s.importUpload, Access: permitted, Perm: imp},
		{Method: get, Path: "/imports/:id", Handler: s.importJob, Access: permitted, Perm: imp},
		{Method: get, Path: "/imports/:id/progress", Handler: s.importProgress, Access: permitted, Perm: imp},
		{Method: get, Path: "/imports/:id/row", Handler: s.importRow, Access: permitted, Perm: imp},
		{Method: get, Path: "/imports/:id/bad-rows.csv", Handler: s.importBadRowsCSV, Access: permitted, Perm: imp},
		{Method: post, Path: "/imports/:id/mapping", Handler: s.importRemap, Access: permitted, Perm: imp},
		{Method: post, Path: "/imports/:id/start", Handler: s.importStart, Access: permitted, Perm: imp},
		{Method: post, Path: "/imports/:id/discard", Handler: s.importDiscard, Access: permitted, Perm: imp},
		{Method: post, Path: "/imports/:id/retry", Handler: s.importRetry, Access: permitted, Perm: imp},
		{Method: get, Path: "/exports/suppressions.csv", Handler: s.exportSuppressions, Access: permitted, Perm: exp},
		{Method: get, Path: "/exports/contacts.csv", Handler: s.exportContacts, Access: permitted, Perm: exp},
	}
}

func (s *Server) importOptions() imports.ImportOptions {
	return imports.ImportOptions{Region: s.cfg.Region, Location: s.cfg.Location}
}

func (s *Server) imports(c echo.Context) error {
	return s.renderImports(c, http.StatusOK, views.ImportForm{Channel: consent.ChannelAll})
}

func (s *Server) renderImports(c echo.Context, status int, f views.ImportForm) error {
	ctx, a := c.Request().Context(), actor(c)
	jobs, more, err := s.db.ImportJobs(ctx, a, imports.ImportFilter{Before: c.QueryParam("before")})
	if err != nil {
		return err
	}
	p := views.ImportList{Jobs: jobs, Form: f, CanExport: s.allowed(c, "contacts", "export"), Loc: s.cfg.Location}
	if a.Staff() {
		if p.Customers, p.Options, err = s.customerChoices(c); err != nil {
			return err
		}
	}
	if more {
		p.OlderHref = "/imports?before=" + url.QueryEscape(jobs[len(jobs)-1].ID)
	}
	return s.render(c, status, views.Imports(p))
}

// importUpload stores and checks an upload, then shows its preview.
func (s *Server) importUpload(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	var job *imports.ImportJob
	var f views.ImportForm
	err := readUpload(c, func(fields url.Values, name string, file io.Reader) error {
		f = views.ImportForm{CustomerID: fields.Get("customer"), Kind: fields.Get("kind"), Channel: fields.Get("channel")}
		customerID := a.CustomerID
		if a.Staff() {
			customerID = f.CustomerID
		}
		var err error
		job, err = s.db.CreateImport(ctx, a, imports.ImportUpload{CustomerID: customerID, Kind: f.Kind, FileName: name,
			Channel: f.Channel, File: file, MaxBytes: maxImportBytes}, s.importOptions())
		return err
	})
	if err == nil {
		return redirect(c, "/imports/"+job.ID)
	}
	if f.Errors, err = formErrors(err); err != nil {
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
func (s *Server) importJob(c echo.Context) error {
	job, customer, err := s.loadImport(c)
	if err != nil {
		return err
	}
	// The page shows the file's rows and its bad values: identifiers.
	if err := s.db.Record(c.Request().Context(), actor(c), store.Audit{Action: "import.view", ObjectType: "import", ObjectID: job.ID,
		CustomerID: job.CustomerID, Details: map[string]any{"line": c.QueryParam("line")}}); err != nil {
		return err
	}
	return s.renderImportJob(c, http.StatusOK, job, customer, nil)
}

func (s *Server) loadImport(c echo.Context) (*imports.ImportJob, string, error) {
	ctx, a := c.Request().Context(), actor(c)
	job, err := s.db.ImportJob(ctx, a, c.Param("id"))
	if err != nil {
		return nil, "", err
	}
	customer := ""
	if a.Staff() {
		if cust, err := s.db.Customer(ctx, a, job.CustomerID); err == nil {
			customer = cust.Name
		}
	}
	return job, customer, nil
}

func (s *Server) renderImportJob(c echo.Context, status int, job *imports.ImportJob, customer string, errs views.Errors) error {
	ctx := c.Request().Context()
	line, _ := strconv.ParseInt(c.QueryParam("line"), 10, 64)
	col := -2
	if v, err := strconv.Atoi(c.QueryParam("col")); err == nil {
		col = v
	}
	const page = 500
	// One more than a page tells whether another page follows, so the
	// last page offers no "More" that would open an empty one.
	problems, err := s.db.ImportProblems(ctx, job, line, col, page+1)
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
		earlier, err := s.db.EarlierImports(ctx, actor(c), job)
		if err != nil {
			return err
		}
		return s.render(c, status, views.ImportPreviewPage(views.ImportPreview{Job: *job, Customer: customer, Problems: problems,
			MoreHref: more, Earlier: earlier, Errors: errs, Loc: s.cfg.Location}))
	}
	return s.render(c, status, views.ImportJobPage(views.ImportJobView{Job: *job, Customer: customer, Problems: problems,
		MoreHref: more, Loc: s.cfg.Location}))
}

// importProgress is the job page's polled fragment. A file checked again
// under a new mapping comes back to preview: the page reloads to show it.
func (s *Server) importProgress(c echo.Context) error {
	job, err := s.db.ImportJob(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	if job.Status == imports.ImportPreview {
		c.Response().Header().Set("HX-Refresh", "true")
	}
	return s.render(c, http.StatusOK, views.ImportProgress(*job))
}

// importRow is the list's polled fragment for one job.
func (s *Server) importRow(c echo.Context) error {
	job, err := s.db.ImportJob(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	var customers map[string]string
	if actor(c).Staff() {
		if customers, _, err = s.customerChoices(c); err != nil {
			return err
		}
	}
	return s.render(c, http.StatusOK, views.ImportRow(*job, customers, s.cfg.Location))
}

// importBadRowsCSV downloads a job's bad rows, streamed a page at a time.
func (s *Server) importBadRowsCSV(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	job, err := s.db.ImportJob(ctx, a, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.db.Record(ctx, a, store.Audit{Action: "import.bad_rows_export", ObjectType: "import", ObjectID: job.ID,
		CustomerID: job.CustomerID, Details: map[string]any{"bad_rows": job.BadRows}}); err != nil {
		return err
	}
	out := startCSV(c, "bad-rows-"+job.FileName, []string{"line", "column", "value", "reason"})
	err = s.db.EachImportProblem(ctx, job, func(p imports.ImportProblem) error {
		return out.Write([]string{strconv.FormatInt(p.Line, 10), p.Field, imports.SpreadsheetSafe(p.Value), p.Reason})
	})
	if err = out.Close(err); err != nil {
		s.log.Error("bad rows download interrupted", "request_id", requestID(c), "import", job.ID, "err", err)
	}
	return nil
}

// importRemap checks the file again under the mapping chosen on the
// preview page.
func (s *Server) importRemap(c echo.Context) error {
	job, customer, err := s.loadImport(c)
	if err != nil {
		return err
	}
	m := imports.ImportMapping{Columns: job.Mapping.Columns, Fields: make([]string, len(job.Mapping.Columns)),
		Channel: c.FormValue("channel")}
	for i := range m.Fields {
		m.Fields[i] = c.FormValue(fmt.Sprintf("field_%d", i))
	}
	if _, err = s.db.RemapImport(c.Request().Context(), actor(c), job.ID, m, s.importOptions()); err == nil {
		s.flash(c, "The file was checked again with your column mapping.")
		return redirect(c, "/imports/"+job.ID)
	}
	errs, err := formErrors(err)
	if err != nil {
		return err
	}
	job.Mapping.Fields, job.Mapping.Channel = m.Fields, m.Channel
	return s.renderImportJob(c, http.StatusUnprocessableEntity, job, customer, errs)
}

func (s *Server) importStart(c echo.Context) error {
	job, err := s.db.StartImport(c.Request().Context(), actor(c), c.Param("id"), "")
	if err != nil {
		return err
	}
	s.flash(c, fmt.Sprintf("Import of %s started.", job.FileName))
	return redirect(c, "/imports/"+job.ID)
}

func (s *Server) importDiscard(c echo.Context) error {
	if err := s.db.CancelImport(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	s.flash(c, "The upload was discarded; nothing was imported.")
	return redirect(c, "/imports")
}

func (s *Server) importRetry(c echo.Context) error {
	id := c.Param("id")
	if err := s.db.RetryImport(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	s.flash(c, "The import was queued again; it resumes where it stopped.")
	return redirect(c, "/imports/"+id)
}
