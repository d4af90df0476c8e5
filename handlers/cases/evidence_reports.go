package cases

import (
	"github.com/sendara/console/handlers/web"
	calendar "github.com/sendara/console/models/calendar"
	casework "github.com/sendara/console/models/casework"
	"github.com/sendara/console/views/casepages"

	errs "github.com/sendara/console/models/errs"

	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
)

// evidenceReportLimit bounds the rows of the exports report's page and CSV.
const evidenceReportLimit = 5000

// evidenceYears is how many calendar years the period picker offers.
const evidenceYears = 6

// evidenceYearRange is one calendar year in the business time zone: from
// 1 January to 31 December, or to today for the current year.
func evidenceYearRange(year int, today calendar.Date) (calendar.Date, calendar.Date) {
	from, to := calendar.Date{Year: year, Month: time.January, Day: 1}, calendar.Date{Year: year, Month: time.December, Day: 31}
	if year == today.Year {
		to = today
	}
	return from, to
}

// evidencePickerYears are the years the picker offers, newest first.
func evidencePickerYears(today calendar.Date) []int {
	ys := make([]int, 0, evidenceYears)
	for y := today.Year; y > today.Year-evidenceYears; y-- {
		ys = append(ys, y)
	}
	return ys
}

// evidenceRange reads the report's period (from and to, both included, in
// the business time zone): a calendar year (?year=), else a from/to range;
// by default the current year, as on /reports. year is the calendar year
// the range is, 0 when it is not one.
func (s *Handlers) evidenceRange(c echo.Context) (from, to calendar.Date, year int, err error) {
	loc := s.Cfg.Business.Loc
	today := calendar.TodayIn(loc)
	if v := strings.TrimSpace(c.QueryParam("year")); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < 1970 || y > today.Year {
			return from, to, 0, errs.Invalid("year", "choose a year from 1970 to %d", today.Year)
		}
		from, to = evidenceYearRange(y, today)
		return from, to, y, nil
	}
	from, to = evidenceYearRange(today.Year, today)
	for _, p := range []struct {
		name string
		dst  *calendar.Date
	}{{"from", &from}, {"to", &to}} {
		if v := strings.TrimSpace(c.QueryParam(p.name)); v != "" {
			d, err := calendar.ParseDate(v)
			if err != nil {
				return from, to, 0, errs.Invalid(p.name, "%v", err)
			}
			*p.dst = d
		}
	}
	if to.Before(from) {
		return from, to, 0, errs.Invalid("to", "the end of the range is before its start")
	}
	if yf, yt := evidenceYearRange(from.Year, today); from == yf && to == yt {
		year = from.Year
	}
	return from, to, year, nil
}

// evidenceTable computes one auditor report.
func (s *Handlers) evidenceTable(c echo.Context, name string, from, to calendar.Date) (casework.EvidenceTable, error) {
	ctx, a, biz, loc := c.Request().Context(), web.Actor(c), s.Cfg.Business, s.Cfg.Business.Loc
	start, end := casework.DayRange(from, to, loc)
	switch name {
	case "opt-out-latency":
		r, err := s.DB.OptOutLatencyReport(ctx, a, biz, start, end)
		if err != nil {
			return casework.EvidenceTable{}, err
		}
		return r.Table(loc), nil
	case "reply-queue":
		// The reply queue is what awaits review today, whatever the
		// period: a reply received in an earlier year and still waiting
		// is the finding, so the period does not filter it.
		rows, err := s.DB.ReplyQueueReport(ctx, a, biz)
		if err != nil {
			return casework.EvidenceTable{}, err
		}
		return casework.ReplyQueueTable(rows, loc), nil
	case "on-time":
		r, err := s.DB.OnTimeRequests(ctx, a, biz, start, end)
		if err != nil {
			return casework.EvidenceTable{}, err
		}
		return r.Table(), nil
	case "access-review":
		ps, err := s.DB.AccessReview(ctx, a, loc)
		if err != nil {
			return casework.EvidenceTable{}, err
		}
		return casework.AccessReviewTable(casework.RolePeriodsDuring(ps, start, end), loc), nil
	case "erasure":
		cs, err := s.DB.ErasureCompleteness(ctx, a, start, end)
		if err != nil {
			return casework.EvidenceTable{}, err
		}
		return casework.ErasureTable(cs, loc), nil
	case "exports":
		es, err := s.DB.PersonalDataExports(ctx, a, start, end, evidenceReportLimit)
		if err != nil {
			return casework.EvidenceTable{}, err
		}
		return casework.ExportsTable(es, loc), nil
	}
	return casework.EvidenceTable{}, echo.ErrNotFound
}

func evidenceReportNamed(name string) (casework.EvidenceReport, bool) {
	i := slices.IndexFunc(casework.EvidenceReports, func(r casework.EvidenceReport) bool { return r.Name == name })
	if i < 0 {
		return casework.EvidenceReport{}, false
	}
	return casework.EvidenceReports[i], true
}

// evidenceReports lists the auditor reports.
func (s *Handlers) evidenceReports(c echo.Context) error {
	from, to, year, err := s.evidenceRange(c)
	if err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, casepages.EvidenceIndex(casepages.EvidenceIndexProps{Reports: casework.EvidenceReports,
		From: from.String(), To: to.String(), Year: year, Years: evidencePickerYears(calendar.TodayIn(s.Cfg.Business.Loc))}))
}

// evidenceReport shows one auditor report. The tables name people (users,
// who exported what) and requests, so each view is audited (report.view).
func (s *Handlers) evidenceReport(c echo.Context) error {
	rep, ok := evidenceReportNamed(c.Param("name"))
	if !ok {
		return echo.ErrNotFound
	}
	from, to, year, err := s.evidenceRange(c)
	if err != nil {
		return err
	}
	t, err := s.evidenceTable(c, rep.Name, from, to)
	if err != nil {
		return err
	}
	if err := s.DB.Record(c.Request().Context(), web.Actor(c), store.Audit{Action: "report.view", ObjectType: "report", ObjectID: rep.Name,
		Details: map[string]any{"report": rep.Name, "from": from.String(), "to": to.String(), "rows": len(t.Rows)}}); err != nil {
		return err
	}
	return s.Render(c, http.StatusOK, casepages.EvidenceReportPage(casepages.EvidenceReportProps{Report: rep, Table: t,
		From: from.String(), To: to.String(), Year: year, Years: evidencePickerYears(calendar.TodayIn(s.Cfg.Business.Loc)), Loc: s.Cfg.Location, Generated: time.Now()}))
}

// evidenceReportCSV downloads the same table as CSV (report.export, one
// of the exports the exports report lists).
func (s *Handlers) evidenceReportCSV(c echo.Context) error {
	rep, ok := evidenceReportNamed(c.Param("name"))
	if !ok {
		return echo.ErrNotFound
	}
	from, to, _, err := s.evidenceRange(c)
	if err != nil {
		return err
	}
	t, err := s.evidenceTable(c, rep.Name, from, to)
	if err != nil {
		return err
	}
	if err := s.DB.Record(c.Request().Context(), web.Actor(c), store.Audit{Action: "report.export", ObjectType: "report", ObjectID: rep.Name,
		Details: map[string]any{"report": rep.Name, "from": from.String(), "to": to.String(), "rows": len(t.Rows), "format": "csv"}}); err != nil {
		return err
	}
	out := web.StartCSV(c, rep.Name+"-"+from.String()+"-to-"+to.String()+".csv", append([]string{"flagged"}, t.Columns...))
	for i, row := range t.Rows {
		rec := make([]string, 0, len(row)+1)
		rec = append(rec, map[bool]string{true: "yes", false: ""}[t.Flagged[i]])
		for _, cell := range row {
			rec = append(rec, evidenceCSVCell(cell))
		}
		if err := out.Write(rec); err != nil {
			break
		}
	}
	if err := out.Close(nil); err != nil {
		s.Log.Error("report download interrupted", "request_id", web.RequestID(c), "report", rep.Name, "err", err)
	}
	return nil
}

// evidenceCSVCell keeps a spreadsheet from reading a cell as a formula.
func evidenceCSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
