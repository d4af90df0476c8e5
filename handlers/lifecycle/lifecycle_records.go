package lifecycle

import (
	"github.com/sendara/console/handlers/web"
	calendar "github.com/sendara/console/models/calendar"
	errs "github.com/sendara/console/models/errs"
	"github.com/sendara/console/views/lifecyclepages"

	"net/http"

	"github.com/labstack/echo/v4"
	registers "github.com/sendara/console/models/registers"
)

// recordsCustomer is the customer whose Art. 30(2) record is asked: a
// customer user's own, or the one staff chose.
func recordsCustomer(c echo.Context) string {
	if a := web.Actor(c); !a.Staff() {
		return a.CustomerID
	}
	return c.QueryParam("customer")
}

// processingRecords shows Sendara's Art. 30(2) record for one customer as a
// page, or as a print view (?view=print). It holds business facts and
// counts, no person's data.
func (s *Handlers) processingRecords(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	p := lifecyclepages.RecordsPage{Staff: a.Staff(), CustomerID: recordsCustomer(c), Loc: s.Cfg.Business.Loc}
	var err error
	if p.Staff {
		if p.Customers, err = s.DB.Customers(ctx, a); err != nil {
			return err
		}
	}
	if p.CustomerID != "" {
		if p.Record, err = s.DB.ProcessingRecordFor(ctx, a, p.CustomerID, calendar.TodayIn(s.Cfg.Business.Loc)); err != nil {
			return err
		}
		if c.QueryParam("view") == "print" {
			return s.Render(c, http.StatusOK, lifecyclepages.RecordsPrint(p))
		}
	}
	return s.Render(c, http.StatusOK, lifecyclepages.Records(p))
}

// processingRecordsCSV is the same record as a CSV file.
func (s *Handlers) processingRecordsCSV(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	id := recordsCustomer(c)
	if id == "" {
		return errs.Invalid("customer", "choose a customer")
	}
	rec, err := s.DB.ProcessingRecordFor(ctx, a, id, calendar.TodayIn(s.Cfg.Business.Loc))
	if err != nil {
		return err
	}
	out := web.StartCSV(c, "art30-records-"+rec.Customer.Slug+".csv", registers.ProcessingRecordColumns)
	var werr error
	for _, r := range rec.Rows() {
		if werr = out.Write(lifecycleCSVRow(r)); werr != nil {
			break
		}
	}
	if err := out.Close(werr); err != nil {
		s.Log.Error("Art. 30 record download interrupted", "request_id", web.RequestID(c), "err", err)
	}
	return nil
}
