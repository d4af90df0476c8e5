package handlers

import (
	"context"
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	imports "github.com/sendara/console/models/imports"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/views"
)

// exportSuppressions downloads a customer's suppression list as CSV.
func (s *Server) exportSuppressions(c echo.Context) error {
	return s.exportCSV(c, "suppressions", true)
}

// exportContacts downloads all of a customer's contacts as CSV.
func (s *Server) exportContacts(c echo.Context) error {
	return s.exportCSV(c, "contacts", false)
}

// exportCSV streams one customer's contacts, one row per identifier, as it
// reads them in keyset pages: the response starts at once and memory holds
// one page. The export is audited (contact.export, with the filter and
// the row count) before the first byte is sent, in its own transaction.
// Staff choose the customer (?customer=ID); a customer user exports its
// own tenant, and another tenant's id answers 404.
func (s *Server) exportCSV(c echo.Context, what string, suppressedOnly bool) error {
	ctx, a := c.Request().Context(), actor(c)
	customerID := c.QueryParam("customer")
	if customerID == "" {
		if a.Staff() {
			_, options, err := s.customerChoices(c)
			if err != nil {
				return err
			}
			return s.render(c, http.StatusOK, views.ExportChooserPage(views.ExportChooser{What: what, Customers: options}))
		}
		customerID = a.CustomerID
	}
	cust, err := s.db.Customer(ctx, a, customerID)
	if err != nil {
		return err
	}
	f := imports.ExportFilter{CustomerID: cust.ID, SuppressedOnly: suppressedOnly}
	rows, err := s.db.CountExport(ctx, a, f)
	if err != nil {
		return err
	}
	if err := s.db.Record(ctx, a, store.Audit{Action: "contact.export", ObjectType: "contact", CustomerID: cust.ID,
		Details: map[string]any{"filter": what, "suppressed_only": suppressedOnly, "format": "csv", "rows": rows}}); err != nil {
		return err
	}
	out := startCSV(c, fmt.Sprintf("%s-%s-%s.csv", what, cust.Slug, store.Now().In(s.cfg.Location).Format("2006-01-02")), imports.ExportColumns)
	written, err := s.db.ExportContacts(ctx, a, f, func(r imports.ExportRow) error { return out.Write(r.Record()) })
	if err = out.Close(err); err != nil {
		// The header is sent: the client has a truncated file. Say so in
		// the log and the audit trail.
		s.log.Error("export interrupted", "request_id", requestID(c), "customer", cust.ID, "rows", written, "err", err)
		if rerr := s.db.Record(context.WithoutCancel(ctx), a, store.Audit{Action: "contact.export_incomplete", ObjectType: "contact",
			CustomerID: cust.ID, Details: map[string]any{"filter": what, "rows_written": written}}); rerr != nil {
			s.log.Error("audit interrupted export", "request_id", requestID(c), "err", rerr)
		}
	}
	return nil
}

// csvDownload streams a CSV file: rows go to the client as they are read,
// flushed every csvFlushEvery rows, so nothing holds the whole file.
type csvDownload struct {
	c       echo.Context
	w       *csv.Writer
	pending int
}

const csvFlushEvery = 500

// Write adds one row.
func (d *csvDownload) Write(rec []string) error {
	if err := d.w.Write(rec); err != nil {
		return err
	}
	if d.pending++; d.pending == csvFlushEvery {
		d.pending = 0
		d.w.Flush()
		d.c.Response().Flush()
		return d.w.Error()
	}
	return nil
}

// Close flushes what is left and returns err, or else the first write error.
func (d *csvDownload) Close(err error) error {
	d.w.Flush()
	if err == nil {
		err = d.w.Error()
	}
	return err
}

// startCSV sends the headers of a CSV download and its header row; rows
// follow through the returned writer.
func startCSV(c echo.Context, filename string, header []string) *csvDownload {
	if !strings.HasSuffix(strings.ToLower(filename), ".csv") {
		filename += ".csv"
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": filename})
	if disposition == "" {
		disposition = "attachment"
	}
	h.Set(echo.HeaderContentDisposition, disposition)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	d := &csvDownload{c: c, w: csv.NewWriter(c.Response())}
	_ = d.w.Write(header)
	return d
}
