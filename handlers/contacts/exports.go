package contacts

import (
	"context"
	"fmt"
	"net/http"

	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/views/contactpages"

	"github.com/labstack/echo/v4"
	imports "github.com/sendara/console/models/imports"
	store "github.com/sendara/console/models/store"
)

// exportSuppressions downloads a customer's suppression list as CSV.
func (s *Handlers) exportSuppressions(c echo.Context) error {
	return s.exportCSV(c, "suppressions", true)
}

// exportContacts downloads all of a customer's contacts as CSV.
func (s *Handlers) exportContacts(c echo.Context) error {
	return s.exportCSV(c, "contacts", false)
}

// exportCSV streams one customer's contacts, one row per identifier, as it
// reads them in keyset pages: the response starts at once and memory holds
// one page. The export is audited (contact.export, with the filter and
// the row count) before the first byte is sent, in its own transaction.
// Staff choose the customer (?customer=ID); a customer user exports its
// own tenant, and another tenant's id answers 404.
func (s *Handlers) exportCSV(c echo.Context, what string, suppressedOnly bool) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	customerID := c.QueryParam("customer")
	if customerID == "" {
		if a.Staff() {
			_, options, err := s.CustomerChoices(c)
			if err != nil {
				return err
			}
			return s.Render(c, http.StatusOK, contactpages.ExportChooserPage(contactpages.ExportChooser{What: what, Customers: options}))
		}
		customerID = a.CustomerID
	}
	cust, err := s.DB.Customer(ctx, a, customerID)
	if err != nil {
		return err
	}
	f := imports.ExportFilter{CustomerID: cust.ID, SuppressedOnly: suppressedOnly}
	rows, err := s.DB.CountExport(ctx, a, f)
	if err != nil {
		return err
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "contact.export", ObjectType: "contact", CustomerID: cust.ID,
		Details: map[string]any{"filter": what, "suppressed_only": suppressedOnly, "format": "csv", "rows": rows}}); err != nil {
		return err
	}
	out := web.StartCSV(c, fmt.Sprintf("%s-%s-%s.csv", what, cust.Slug, store.Now().In(s.Cfg.Location).Format("2006-01-02")), imports.ExportColumns)
	written, err := s.DB.ExportContacts(ctx, a, f, func(r imports.ExportRow) error { return out.Write(r.Record()) })
	if err = out.Close(err); err != nil {
		// The header is sent: the client has a truncated file. Say so in
		// the log and the audit trail.
		s.Log.Error("export interrupted", "request_id", web.RequestID(c), "customer", cust.ID, "rows", written, "err", err)
		if rerr := s.DB.Record(context.WithoutCancel(ctx), a, store.Audit{Action: "contact.export_incomplete", ObjectType: "contact",
			CustomerID: cust.ID, Details: map[string]any{"filter": what, "rows_written": written}}); rerr != nil {
			s.Log.Error("audit interrupted export", "request_id", web.RequestID(c), "err", rerr)
		}
	}
	return nil
}
