package cases

import (
	"github.com/sendara/console/handlers/web"
	casework "github.com/sendara/console/models/casework"
	requests "github.com/sendara/console/models/requests"
	"github.com/sendara/console/views/casepages"

	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/views"
)

// Working the request queue (issue 9, point 10): the staff request list
// with its filters, saved views, bulk assignment and CSV export.

func (s *Handlers) queueRoutes() []web.Route {
	get, post := http.MethodGet, http.MethodPost
	return []web.Route{
		{Method: get, Path: "/requests/export.csv", Handler: s.requestsCSV, Access: web.Permitted, Perm: web.Can("requests", "export")},
		{Method: post, Path: "/requests/views", Handler: s.requestViewSave, Access: web.Permitted, Perm: web.Can("request_views", "write")},
		{Method: post, Path: "/requests/views/:id/delete", Handler: s.requestViewDelete, Access: web.Permitted, Perm: web.Can("request_views", "write")},
		{Method: post, Path: "/requests/assign", Handler: s.requestsAssign, Access: web.Permitted, Perm: web.Can("requests", "write")},
	}
}

// queuePageSize is how many requests a page of the list shows.
const queuePageSize = 50

// queueFilter reads the list's filters from the query string (or a
// form's fields of the same names).
func (s *Handlers) queueFilter(c echo.Context) casework.RequestFilter {
	today := s.today()
	weekEnd := today.AddDays(int(time.Saturday - today.Weekday()))
	view := c.FormValue("view")
	if view == "" {
		view = "open"
	}
	return casework.RequestFilter{View: view, Status: c.FormValue("status"), Type: c.FormValue("type"), Regime: c.FormValue("regime"),
		AssigneeID: c.FormValue("assignee"), CustomerID: c.FormValue("customer"), DueBefore: c.FormValue("due_before"),
		Query: c.FormValue("q"), Sort: c.FormValue("sort"), UserID: web.Actor(c).ID, Today: today, WeekEnd: weekEnd, Region: s.Cfg.Region}
}

// queueQuery is the query string of a filter set, for links.
func queueQuery(f casework.SavedFilters) string {
	v := url.Values{}
	for k, val := range map[string]string{"view": f.View, "status": f.Status, "type": f.Type, "regime": f.Regime,
		"assignee": f.AssigneeID, "customer": f.CustomerID, "due_before": f.DueBefore, "q": f.Query, "sort": f.Sort} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v.Encode()
}

// requests lists requests by the filters; the list is audited as a view
// of personal data with its filter.
func (s *Handlers) requests(c echo.Context) error {
	f := s.queueFilter(c)
	page, _ := strconv.Atoi(c.QueryParam("page"))
	page = max(page, 1)
	f.Offset, f.Limit = (page-1)*queuePageSize, queuePageSize+1
	if page > casework.MaxRequestOffset/queuePageSize+1 {
		f.Offset = casework.MaxRequestOffset + 1 // refused by the filter check, naming the page
	}
	return s.renderQueue(c, f, page, nil, http.StatusOK)
}

func (s *Handlers) renderQueue(c echo.Context, f casework.RequestFilter, page int, errs views.Errors, status int) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	rs, err := s.DB.ListRequests(ctx, a, f)
	listed := err == nil
	if ferrs, ferr := web.FormErrors(err); ferr != nil {
		return ferr
	} else if ferrs != nil {
		errs, status, rs = ferrs, http.StatusUnprocessableEntity, nil
	}
	more := len(rs) > queuePageSize
	rs = rs[:min(len(rs), queuePageSize)]
	if listed {
		if err := s.DB.Record(ctx, a, store.Audit{Action: "request.list", ObjectType: "request",
			Details: map[string]any{"view": f.View, "filter": f.Saved(), "page": page, "results": len(rs)}}); err != nil {
			return err
		}
	}
	staff, err := s.staffNames(c)
	if err != nil {
		return err
	}
	assignable, err := s.DB.AssignableUsers(ctx)
	if err != nil {
		return err
	}
	_, customers, err := s.CustomerChoices(c)
	if err != nil {
		return err
	}
	saved, err := s.DB.SavedRequestViews(ctx, a)
	if err != nil {
		return err
	}
	p := casepages.RequestList{Requests: rs, View: f.View, Query: f.Query, Filter: f.Saved(), Today: s.today(), Assignees: staff,
		Assignable: assignable, Customers: customers, CanWrite: s.Allowed(c, "requests", "write"),
		CanExport: s.Allowed(c, "requests", "export"), CanSave: s.Allowed(c, "request_views", "write"), Loc: s.Cfg.Location,
		Page: page, More: more, QueryString: queueQuery(f.Saved()), Errors: errs}
	for _, v := range saved {
		p.Saved = append(p.Saved, casepages.SavedView{ID: v.ID, Name: v.Name, Href: "/requests?" + queueQuery(v.Filter())})
	}
	return s.Render(c, status, casepages.Requests(p))
}

// requestViewSave names the current filters as one of the user's views.
func (s *Handlers) requestViewSave(c echo.Context) error {
	f := s.queueFilter(c)
	v, err := s.DB.SaveRequestView(c.Request().Context(), web.Actor(c), c.FormValue("name"), f)
	if errs, err := web.FormErrors(err); err != nil {
		return err
	} else if errs != nil {
		return s.renderQueue(c, f, 1, errs, http.StatusUnprocessableEntity)
	}
	s.Flash(c, "View \""+v.Name+"\" saved.")
	return web.Redirect(c, "/requests?"+queueQuery(v.Filter()))
}

func (s *Handlers) requestViewDelete(c echo.Context) error {
	if err := s.DB.DeleteRequestView(c.Request().Context(), web.Actor(c), c.Param("id")); err != nil {
		return err
	}
	s.Flash(c, "View deleted.")
	return web.Redirect(c, "/requests")
}

// requestsAssign gives the selected requests to one user.
func (s *Handlers) requestsAssign(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	n, err := s.DB.AssignMany(c.Request().Context(), web.Actor(c), form["ids"], c.FormValue("assignee"))
	if errs, err := web.FormErrors(err); err != nil {
		return err
	} else if errs != nil {
		return s.renderQueue(c, s.queueFilter(c), 1, errs, http.StatusUnprocessableEntity)
	}
	who := "nobody"
	if staff, err := s.staffNames(c); err == nil && c.FormValue("assignee") != "" {
		who = staff[c.FormValue("assignee")]
	}
	s.Flash(c, fmt.Sprintf("%d %s assigned to %s.", n, map[bool]string{true: "request", false: "requests"}[n == 1], who))
	return web.Redirect(c, "/requests?"+queueQuery(s.queueFilter(c).Saved()))
}

// requestsCSV streams the filtered list as CSV, audited as an export of
// personal data (request.list_export, with the filter and the row count)
// before the first byte is sent.
func (s *Handlers) requestsCSV(c echo.Context) error {
	ctx, a := c.Request().Context(), web.Actor(c)
	f := s.queueFilter(c)
	n, err := s.DB.CountRequests(ctx, a, f)
	if err != nil {
		return err
	}
	rows := min(n, casework.MaxRequestExport)
	if err := s.DB.Record(ctx, a, store.Audit{Action: "request.list_export", ObjectType: "request",
		Details: map[string]any{"filter": f.Saved(), "format": "csv", "rows": rows, "truncated": n > rows}}); err != nil {
		return err
	}
	staff, err := s.staffNames(c)
	if err != nil {
		return err
	}
	out := web.StartCSV(c, "requests-"+store.Now().In(s.Cfg.Location).Format("2006-01-02")+".csv", casework.RequestCSVColumns)
	written, err := s.DB.EachRequest(ctx, a, f, func(r requests.PrivacyRequest) error {
		return out.Write(casework.RequestCSVRecord(r, staff[derefStr(r.AssigneeID)]))
	})
	if err = out.Close(err); err != nil {
		s.Log.Error("request list export interrupted", "request_id", web.RequestID(c), "rows", written, "err", err)
		if rerr := s.DB.Record(context.WithoutCancel(ctx), a, store.Audit{Action: "request.list_export_incomplete", ObjectType: "request",
			Details: map[string]any{"rows_written": written}}); rerr != nil {
			s.Log.Error("audit interrupted export", "request_id", web.RequestID(c), "err", rerr)
		}
	}
	return nil
}
