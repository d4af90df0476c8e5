package cases

import (
	"github.com/sendara/console/handlers/web"
	calendar "github.com/sendara/console/models/calendar"
	casework "github.com/sendara/console/models/casework"
	"github.com/sendara/console/views/casepages"

	errs "github.com/sendara/console/models/errs"

	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
)

// reportRoutes are the CCPA reports (§7101 request log, §7102 metrics)
// and the deadline board. /requests/board does not collide with
// /requests/:id: Echo matches a static segment before a parameter.
func (s *Handlers) reportRoutes() []web.Route {
	return []web.Route{
		{Method: http.MethodGet, Path: "/reports", Handler: s.reports, Access: web.Permitted, Perm: web.Can("reports", "read")},
		{Method: http.MethodGet, Path: "/reports/request-log.csv", Handler: s.requestLogCSV, Access: web.Permitted, Perm: web.Can("reports", "read")},
		{Method: http.MethodGet, Path: "/reports/metrics.csv", Handler: s.metricsCSV, Access: web.Permitted, Perm: web.Can("reports", "read")},
		{Method: http.MethodGet, Path: "/reports/on-time.csv", Handler: s.onTimeCSV, Access: web.Permitted, Perm: web.Can("reports", "read")},
		{Method: http.MethodGet, Path: "/requests/board", Handler: s.requestBoard, Access: web.Permitted, Perm: web.Can("requests", "read")},
	}
}

// reportMetrics computes the §7102 metrics of the year and regime asked
// for: by default the current year (the period picker opens on it) and
// every regime.
func (s *Handlers) reportMetrics(c echo.Context) (*casework.Metrics, error) {
	loc := s.Cfg.Business.Loc
	year := calendar.TodayIn(loc).Year
	if v := c.QueryParam("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil {
			return nil, errs.Invalid("year", "choose a year")
		}
		year = y
	}
	return s.DB.Metrics(c.Request().Context(), web.Actor(c), year, loc, c.QueryParam("regime"))
}

// reports shows the §7102 metrics of one calendar year (the current one
// unless another is chosen) with their charts, and the form to download
// the §7101 request log. The figures are counts, not personal data, so
// viewing them is not audited; the log download is.
func (s *Handlers) reports(c echo.Context) error {
	ctx, a, loc := c.Request().Context(), web.Actor(c), s.Cfg.Business.Loc
	today := calendar.TodayIn(loc)
	m, err := s.reportMetrics(c)
	if err != nil {
		return err
	}
	years, err := s.DB.ReportYears(ctx, a, loc)
	if err != nil {
		return err
	}
	from, to := defaultLogRange(today)
	return s.Render(c, http.StatusOK, casepages.Reports(casepages.ReportSummary{Metrics: m, Years: years,
		LogFrom: from.String(), LogTo: to.String()}))
}

// defaultLogRange is the last 24 months to today: how long §7101 asks a
// business to keep the request log.
func defaultLogRange(today calendar.Date) (calendar.Date, calendar.Date) {
	return today.AddMonths(-24), today
}

// requestLogCSV streams the §7101 request log for the requests received
// from one date to another (both included, in the business time zone;
// the last 24 months by default) as it reads them in pages. The download
// is audited with its range and row count before the first byte is sent.
func (s *Handlers) requestLogCSV(c echo.Context) error {
	ctx, a, loc := c.Request().Context(), web.Actor(c), s.Cfg.Business.Loc
	from, to := defaultLogRange(calendar.TodayIn(loc))
	for _, p := range []struct {
		name string
		dst  *calendar.Date
	}{{"from", &from}, {"to", &to}} {
		if v := c.QueryParam(p.name); v != "" {
			d, err := calendar.ParseDate(v)
			if err != nil {
				return errs.Invalid(p.name, "%v", err)
			}
			*p.dst = d
		}
	}
	if to.Before(from) {
		return errs.Invalid("to", "the end of the range is before its start")
	}
	start, end := casework.DayRange(from, to, loc)
	rows, err := s.DB.CountRequestLog(ctx, a, start, end)
	if err != nil {
		return err
	}
	details := map[string]any{"from": from.String(), "to": to.String(), "rows": rows, "format": "csv"}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "report.request_log", ObjectType: "report", Details: details}); err != nil {
		return err
	}
	out := web.StartCSV(c, "request-log-"+from.String()+"-to-"+to.String()+".csv", casework.RequestLogColumns)
	written, err := s.DB.RequestLog(ctx, a, start, end, loc, func(r casework.RequestLogRow) error { return out.Write(r.Record()) })
	if err = out.Close(err); err != nil {
		// The header is sent: the client has a truncated file. Say so in
		// the log and the audit trail.
		s.Log.Error("request log interrupted", "request_id", web.RequestID(c), "rows", written, "err", err)
		if rerr := s.DB.Record(context.WithoutCancel(ctx), a, store.Audit{Action: "report.request_log_incomplete", ObjectType: "report",
			Details: map[string]any{"from": from.String(), "to": to.String(), "rows_written": written}}); rerr != nil {
			s.Log.Error("audit interrupted request log", "request_id", web.RequestID(c), "err", rerr)
		}
	}
	return nil
}

// requestBoard shows the open requests by when they fall due. Like the
// request list, it shows personal data (requesters), so each view is
// audited as a list view.
func (s *Handlers) requestBoard(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	b, err := s.DB.DeadlineBoard(ctx, a, calendar.TodayIn(s.Cfg.Business.Loc), s.Cfg.Business.Loc)
	if err != nil {
		return err
	}
	n := 0
	for _, col := range b.Columns {
		n += len(col.Cards)
	}
	if err := s.DB.Record(ctx, a, store.Audit{Action: "request.list", ObjectType: "request",
		Details: map[string]any{"view": "board", "results": n}}); err != nil {
		return err
	}
	staff, err := s.staffNames(c)
	if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, casepages.RequestBoard(casepages.DeadlineBoard{Board: b, Assignees: staff}))
}

// metricsCSV downloads the §7102 metrics the reports page shows: one row
// per kind of request and the total. Counts only, so not audited.
func (s *Handlers) metricsCSV(c echo.Context) error {
	m, err := s.reportMetrics(c)
	if err != nil {
		return err
	}
	out := web.StartCSV(c, "metrics-"+strconv.Itoa(m.Year)+regimeSuffix(m.Regime)+".csv", []string{"year", "regime", "type", "received",
		"complied", "complied_in_part", "denied", "withdrawn", "open", "responded", "median_days", "mean_days"})
	regime := m.Regime
	if regime == "" {
		regime = "all"
	}
	var werr error
	for _, t := range append(m.Types, m.Total) {
		typ := t.Type
		if typ == "" {
			typ = "total"
		}
		if werr = out.Write([]string{strconv.Itoa(m.Year), regime, typ, strconv.Itoa(t.Received), strconv.Itoa(t.Complied),
			strconv.Itoa(t.CompliedInPart), strconv.Itoa(t.Denied), strconv.Itoa(t.Withdrawn), strconv.Itoa(t.Open),
			strconv.Itoa(t.Responded), strconv.FormatFloat(t.MedianDays, 'f', 1, 64), strconv.FormatFloat(t.MeanDays, 'f', 1, 64)}); werr != nil {
			break
		}
	}
	if err := out.Close(werr); err != nil {
		s.Log.Error("report csv interrupted", "request_id", web.RequestID(c), "err", err)
	}
	return nil
}

// onTimeCSV downloads the on-time rates the reports page shows: one row
// per regime and one for all. Counts only, so not audited.
func (s *Handlers) onTimeCSV(c echo.Context) error {
	m, err := s.reportMetrics(c)
	if err != nil {
		return err
	}
	out := web.StartCSV(c, "on-time-"+strconv.Itoa(m.Year)+regimeSuffix(m.Regime)+".csv",
		[]string{"year", "regime", "answered", "in_time", "rate_percent", "open_overdue"})
	var werr error
	for _, o := range append(m.OnTime, m.OnTimeAll) {
		regime, rate := o.Regime, ""
		if regime == "" {
			regime = "all"
		}
		if r, ok := o.Rate(); ok {
			rate = strconv.FormatFloat(r*100, 'f', 1, 64)
		}
		if werr = out.Write([]string{strconv.Itoa(m.Year), regime, strconv.Itoa(o.Answered), strconv.Itoa(o.InTime), rate,
			strconv.Itoa(o.OpenOverdue)}); werr != nil {
			break
		}
	}
	if err := out.Close(werr); err != nil {
		s.Log.Error("report csv interrupted", "request_id", web.RequestID(c), "err", err)
	}
	return nil
}

func regimeSuffix(regime string) string {
	if regime == "" {
		return ""
	}
	return "-" + regime
}
