package handlers_test

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"
	casework "github.com/sendara/console/models/casework"
	consent "github.com/sendara/console/models/consent"
	hooks "github.com/sendara/console/models/hooks"
	"github.com/sendara/console/models/modeltest"
	outbox "github.com/sendara/console/models/outbox"
	requests "github.com/sendara/console/models/requests"
)

// axeSource is axe-core (MPL-2.0, testdata/axe/LICENSE-MPL-2.0), vendored
// for the browser tests only: the console does not serve it, and nothing
// needs Node.js to build, run or test.
//
//go:embed testdata/axe/axe-4.14.1.min.js
var axeSource string

// a11yViolation is one axe rule a page breaks, with where.
type a11yViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// a11yRunAxe sets the page's repeated rows aside (a11yPrune) and runs axe
// on what is left.
func (b *browser) a11yRunAxe() []a11yViolation {
	b.t.Helper()
	return b.a11yAxe(b.a11yPrune().dups)
}

// a11yAxe runs axe on the page loaded and returns its serious and critical
// violations (WCAG 2.x A and AA rules and best practices), with the ids
// a11yPrune found used twice.
func (b *browser) a11yAxe(dups []string) []a11yViolation {
	b.t.Helper()
	b.a11yInjectAxe()
	const js = `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
			id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + (n.failureSummary || "").split("\n").slice(1, 2).join(""))}))))`
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("run axe: %v", err)
	}
	var vs []a11yViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		b.t.Fatalf("axe results %q: %v", out, err)
	}
	return append(vs, a11yDuplicateIDs(dups)...)
}

// a11yDuplicateIDs is the violation of ids used more than once, if any.
func a11yDuplicateIDs(dups []string) []a11yViolation {
	if len(dups) == 0 {
		return nil
	}
	return []a11yViolation{{ID: "duplicate-id", Impact: "serious", Help: "id attribute values must be unique (checked before repeated rows were set aside)", Nodes: dups}}
}

// a11yPruned is what a11yPrune found.
type a11yPruned struct {
	dups  []string // ids the page used more than once, read before pruning
	shape string   // a digest of the main content's shape after pruning
}

// a11yPrune takes out of the page every table row whose shape another row
// of its table already has, and returns the ids the page used more than
// once (read before, since repeated rows could repeat an id) and a digest
// of the shape of what is left of the main element (the body when there is
// none), with the colour scheme it is shown in.
//
// An element's shape is its tag, its class, inline style, role, type, ARIA
// and table attributes with their values, the names of its other
// attributes (an href's or a data attribute's value is not in it), and
// whether it holds text. axe's rules read exactly those (and the styles the
// classes give), not what the text says: the fiftieth row of the audit log
// drawn by the same template branch as the first says nothing new, and
// checking it cost most of the walk's axe time (the audit page alone took
// 2–3 s per role with 100 rows). A row from another branch — an overdue
// badge, a link where the others have text — has another shape and stays.
// The same holds for whole pages: the account page of five roles, each
// with its own name and email, is one shape (a11yChecked).
func (b *browser) a11yPrune() a11yPruned {
	b.t.Helper()
	const js = `(() => {
		const ids = new Map();
		for (const e of document.querySelectorAll("[id]")) ids.set(e.id, (ids.get(e.id) || 0) + 1);
		const shape = el => [el, ...el.querySelectorAll("*")].map(e => {
			const attrs = [...e.attributes].map(a =>
				/^(class|style|role|type|aria-.*|scope|colspan|rowspan|tabindex|hidden|lang|dir)$/.test(a.name) ? a.name + "=" + a.value : a.name).sort();
			const text = [...e.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== "");
			return e.tagName + "[" + attrs.join(" ") + "]" + (text ? "t" : "");
		}).join(";");
		for (const body of document.querySelectorAll("tbody")) {
			const seen = new Set();
			for (const row of [...body.rows]) {
				const s = shape(row);
				if (seen.has(s)) row.remove(); else seen.add(s);
			}
		}
		return JSON.stringify({
			dups: [...ids].filter(([, n]) => n > 1).map(([id, n]) => "#" + id + " (" + n + " times)"),
			shape: matchMedia("(prefers-color-scheme: dark)").matches + "\n" + shape(document.querySelector("main") || document.body),
		});
	})()`
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("set repeated rows aside: %v", err)
	}
	var got struct {
		Dups  []string `json:"dups"`
		Shape string   `json:"shape"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		b.t.Fatalf("pruned page %q: %v", out, err)
	}
	sum := sha256.Sum256([]byte(got.Shape))
	return a11yPruned{dups: got.Dups, shape: "shape:" + hex.EncodeToString(sum[:])}
}

// a11yInjectAxe makes sure axe is loaded in the page shown. The first
// call also has the browser load it into every later document before the
// page's own scripts (Page.addScriptToEvaluateOnNewDocument): sent once,
// not half a megabyte over the DevTools protocol per page. The console's
// CSP does not apply to a script the DevTools protocol evaluates.
func (b *browser) a11yInjectAxe() {
	b.t.Helper()
	if !b.a11yAxeEachPage {
		if _, err := chromedp.Call(b.ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: axeSource}); err != nil {
			b.t.Fatalf("load axe into every page: %v", err)
		}
		b.a11yAxeEachPage = true
	}
	if b.eval(`typeof axe === "object"`) {
		return
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
		b.t.Fatalf("load axe: %v", err)
	}
}

// a11ySkipped are GET routes no browser page is expected from, with why.
// Every other GET route is visited by every role, with sample ids.
var a11ySkipped = map[string]string{
	"/healthz":                    "operations (JSON)",
	"/readyz":                     "operations (JSON)",
	"/static/*":                   "assets",
	"/login/totp":                 "reached while signing in: TestBrowserAuditorVerifiesTheChainWithoutLeavingThePage passes through it",
	"/login/totp/enrol":           "reached at a staff member's first sign-in: TestBrowserStaffAdminEnrolsTOTPAtFirstSignIn",
	"/imports/:id/progress":       "an htmx fragment of /imports/:id, checked inside that page",
	"/imports/:id/row":            "an htmx fragment of /imports, checked inside that page",
	"/requests/:id/mail/:mail":    "the raw message as text/plain",
	"/exports/requests/:token":    "the access bundle's download",
	"/requests/:id/proofs/:proof": "a proof file's download",
	// Writing to the requester (issue 9, point 7)
	"/requests/:id/message-files/:file": "an attachment's download",
	"/my-request/:token/files/:file":    "an attachment's download",
}

// a11yPage says whether a route is a page to check: not the JSON API,
// nor a download.
func a11yPage(path string) bool {
	if _, skip := a11ySkipped[path]; skip || strings.HasPrefix(path, "/api/") {
		return false
	}
	for _, ext := range []string{".csv", "/csv", ".jsonl", ".json", ".eml", ".zip", ".pdf"} {
		if strings.HasSuffix(path, ext) {
			return false
		}
	}
	return true
}

// a11yFixture is one customer with something behind every page: a
// contact, a request routed to it (the inbox), a reply held for review,
// an import job, a webhook; and a user of each role.
type a11yFixture struct {
	samples   map[string]string // route path → a concrete path with sample ids
	ids       map[string]string // a path segment → the sample id of the parameter after it
	contactID string
	roles     []a11yRole
}

type a11yRole struct {
	name string
	acc  *account // nil: signed out (the public pages)
}

func newA11yFixture(t *testing.T, app *testApp) *a11yFixture {
	t.Helper()
	ctx := context.Background()
	acme := app.customer("acme")
	jane := app.contact(t, acme, "Jane Doe", "+14155550123", "jane@example.com")
	app.contact(t, acme, "Max Mustermann", "+14155550124") // no consent on record: its own badge
	r := app.verifiedRequest(t, calendar.TypeAccess, "+14155550123")
	if _, err := app.db.Route(ctx, modeltest.Staff, calendar.DefaultBusiness(), r.ID, "http://console.test/inbox"); err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.RecordInbound(ctx, modeltest.Staff, acme.ID, "+14155550123", "I can't stop laughing", time.Now(), "US", calendar.DefaultBusiness()); err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: "+14155550177", Kind: consent.OptOut, Source: "api"}, "US"); err != nil {
		t.Fatal(err)
	}
	// Some history, so the charts (and the screenshots) have a shape:
	// opt-outs over the last weeks from three sources, and answers over
	// the last months, some late.
	for k := range 12 {
		for n := range k%4 + 1 {
			src := []string{"api", "csv_import", "manual"}[(k+n)%3]
			at := time.Now().Add(-time.Duration(k*7*24+n+1) * time.Hour)
			if _, err := app.db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: fmt.Sprintf("+1415555%02d%02d", k, n),
				Kind: consent.OptOut, Source: src, OccurredAt: at}, "US"); err != nil {
				t.Fatal(err)
			}
		}
	}
	for k := range 8 {
		old := app.verifiedRequest(t, calendar.TypeAccess)
		answered := time.Now().AddDate(0, -k, -1)
		due := answered.AddDate(0, 0, 3-k%3*3).Format(time.DateOnly) // every third one late
		if err := app.db.Gorm.Exec("UPDATE privacy_requests SET status = ?, completed_at = ?, due_on = ?, received_at = ? WHERE id = ?",
			requests.StatusCompleted, answered.UTC(), due, answered.AddDate(0, 0, -20).UTC(), old.ID).Error; err != nil {
			t.Fatal(err)
		}
	}
	hook, err := app.db.CreateWebhookEndpoint(ctx, modeltest.Staff, acme.ID, hooks.WebhookInput{URL: "https://crm.example/hooks",
		Enabled: true, EventTypes: []string{"consent.opted_out"}})
	if err != nil {
		t.Fatal(err)
	}
	f := &a11yFixture{roles: []a11yRole{
		{"staff_admin", app.user(accounts.RoleStaffAdmin, nil, "admin@sendara.test")},
		{"privacy_officer", app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")},
		{"auditor", app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")},
		{"customer_admin", app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")},
		{"customer_agent", app.user(accounts.RoleCustomerAgent, acme, "agent@acme.test")},
		{"public", nil},
	}}
	uploader := app.client()
	uploader.login(f.roles[3].acc)
	uploader.get("/imports")
	up := uploader.uploadCSV(url.Values{}, "optouts.csv", "phone\n+14155550100\nnot a phone\n", false)
	job := strings.TrimPrefix(up.Location(), "/imports/")
	if up.Status != http.StatusSeeOther || job == "" {
		t.Fatalf("upload: %d to %q", up.Status, up.Location())
	}
	public := app.client()
	public.get("/privacy-request")
	if p := public.post("/privacy-request", url.Values{"want": {"erasure"}, "where": {"gdpr"}, "name": {"Jane"}, "email": {"jane@example.com"},
		"relationship": {"end_user"}, "business": {"Acme"}, "details": {"Delete me"}}); p.Status != http.StatusOK {
		t.Fatalf("public form: %d", p.Status)
	}
	confirm := regexp.MustCompile(`/privacy-request/confirm/[A-Za-z0-9_-]+`).FindString(app.outboxTo(t, "jane@example.com", outbox.MailVerification).BodyText)
	f.contactID = jane.ID
	f.ids = map[string]string{"customers": acme.ID, "contacts": jane.ID, "requests": r.ID, "imports": job, "webhooks": hook.ID}
	f.samples = map[string]string{"/privacy-request/confirm/:token": confirm}
	f.samples["/reports/audit/:name"] = "/reports/audit/" + casework.EvidenceReports[0].Name
	f.samples["/my-request/:token"] = regexp.MustCompile(`/my-request/[A-Za-z0-9_-]+`).FindString(app.outboxTo(t, "jane@example.com", outbox.MailVerification).BodyText)
	f.ids["incidents"] = lifecycleIncident(t, app, acme).ID
	return f
}

// samplePath makes a route a path to visit: a sample of its own, else the
// sample ids of the objects its parameters follow (/requests/:id/… takes
// the sample request), else made-up ids; ok says every parameter had a
// sample.
func (f *a11yFixture) samplePath(route string) (path string, ok bool) {
	if p, ok := f.samples[route]; ok {
		return p, true
	}
	segs := strings.Split(route, "/")
	ok = true
	for i, seg := range segs {
		if !strings.HasPrefix(seg, ":") && seg != "*" {
			continue
		}
		if id, found := f.ids[segs[max(i-1, 0)]]; found && strings.HasPrefix(seg, ":") {
			segs[i] = id
			continue
		}
		segs[i], ok = uuid.NewString(), false
	}
	return strings.Join(segs, "/"), ok
}

// a11yResult is what one role found on one page.
type a11yResult struct {
	route, path, role string
	opened            bool // 200, an HTML document
	// loaded: the browser loaded it here (not skipped as a main content
	// the server had already sent), so it was checked in this colour
	// scheme, by axe or as a shape checked in it.
	loaded     bool
	violations []a11yViolation
}

// Every page of every role, and the public ones, passes axe with no
// serious or critical violation. The pages are the route table's GET
// routes (with sample ids), so a new page is checked without editing this
// test; one browser context per role visits them in turn.
func TestBrowserAxeFindsNoSeriousViolationOnAnyPageOfAnyRole(t *testing.T) {
	// Parallel with the other tests; the roles take their turns, so each
	// has the CPU its browser context's time limit assumes.
	t.Parallel()
	app := newTestApp(t)
	f := newA11yFixture(t, app)
	var routes []string
	for _, rt := range app.echo.Routes() {
		if rt.Method == http.MethodGet && a11yPage(rt.Path) && !slices.Contains(routes, rt.Path) {
			routes = append(routes, rt.Path)
		}
	}
	sort.Strings(routes)

	var mu sync.Mutex
	opened := map[string][]string{} // route → roles that opened it
	// Two roles at a time: each browser context has the CPU its time
	// limit assumes on a two-core machine, and the run takes about half as
	// long as one role after another.
	turns := make(chan struct{}, 2)
	checked := &a11yChecked{digests: map[string]bool{}}
	t.Run("roles", func(t *testing.T) {
		for _, role := range f.roles {
			t.Run(role.name, func(t *testing.T) {
				t.Parallel()
				turns <- struct{}{}
				defer func() { <-turns }()
				b := openBrowser(t, app)
				b.a11yChecked = checked
				if role.acc != nil {
					// The sign-in pages are public pages of this walk.
					b.signedIn(role.acc, "")
				}
				for _, route := range routes {
					path, ok := f.samplePath(route)
					// A link's token made up: the page a stale or mistyped
					// link shows, whatever its status, is the page checked.
					anyStatus := !ok && strings.Contains(route, ":token")
					res := b.a11yVisit(route, path, role.name, anyStatus)
					if !res.opened {
						continue
					}
					mu.Lock()
					opened[route] = append(opened[route], role.name)
					mu.Unlock()
					for _, v := range res.violations {
						t.Errorf("%s as %s: %s (%s) %s\n\t%s", path, role.name, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
					}
				}
				if role.name == "public" {
					// The check can fail: an image without a text
					// alternative is a critical violation.
					b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("main").append(Object.assign(document.createElement("img"), {src: "/favicon.svg"}))`))
					if vs := b.a11yRunAxe(); !slices.ContainsFunc(vs, func(v a11yViolation) bool { return v.ID == "image-alt" }) {
						t.Errorf("axe did not report an image without alt text: %+v", vs)
					}
					// Only repeats are set aside: of three rows, two of one
					// shape and one with a badge, two stay; an id used twice
					// is reported.
					b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("main").insertAdjacentHTML("beforeend",
						'<table data-testid="shapes"><tbody><tr><td>a</td></tr><tr><td>b</td></tr><tr><td><span class="badge">c</span></td></tr></tbody></table>' +
						'<p id="twice">1</p><p id="twice">2</p>')`))
					dups := b.a11yPrune().dups
					if !b.eval(`document.querySelectorAll("[data-testid=shapes] tr").length === 2`) {
						t.Error("setting repeated rows aside did not leave one row of each shape")
					}
					if !slices.Equal(dups, []string{"#twice (2 times)"}) {
						t.Errorf("duplicate ids reported: %q, want #twice", dups)
					}
				}
				if role.acc != nil && os.Getenv("CONSOLE_SCREENSHOT_DIR") != "" {
					// The dashboard was checked with the other routes.
					b.do(chromedp.Navigate(b.base + "/"))
					b.a11yScreenshot("dashboard-" + role.name)
				}
				if role.name == "staff_admin" || role.name == "customer_admin" {
					// Dark mode: the dashboard and the reports' charts stay
					// legible (axe's colour contrast among the rules).
					if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
						Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
						t.Fatal(err)
					}
					b.a11yDark = true
					for _, path := range []string{"/", "/reports", "/contacts", "/contacts/" + f.contactID} {
						res := b.a11yVisit(path, path, role.name, false)
						if res.opened && !res.loaded {
							// The served-digest skip must not take a page
							// checked in light mode for one checked in dark.
							t.Errorf("%s as %s in dark mode was not loaded, so not checked in the dark scheme", path, role.name)
						}
						for _, v := range res.violations {
							t.Errorf("%s as %s in dark mode: %s (%s) %s\n\t%s", path, role.name, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
						}
						if path == "/" {
							b.a11yScreenshot("dashboard-" + role.name + "-dark")
						}
					}
				}
			})
		}
	})
	// A page no role could open was not checked: give it a sample id.
	for _, route := range routes {
		if len(opened[route]) == 0 {
			t.Errorf("GET %s: no role opened it as an HTML page, so axe did not check it; give newA11yFixture a sample for its parameters (ids or samples), or a11ySkipped a reason", route)
		}
	}
}

// a11yScreenshot saves the page as name.png under CONSOLE_SCREENSHOT_DIR,
// when set (docs/screenshots holds a few).
func (b *browser) a11yScreenshot(name string) {
	dir := os.Getenv("CONSOLE_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
}

// a11yVisit loads path and, when it is an HTML document answered with
// 200 (any status with anyStatus) at that address (not a redirect, not a
// fragment for htmx), runs axe.
func (b *browser) a11yVisit(route, path, role string, anyStatus bool) a11yResult {
	b.t.Helper()
	res := a11yResult{route: route, path: path, role: role}
	worth, served := b.a11yWorthOpening(path, anyStatus)
	if !worth {
		return res
	}
	if b.a11yDark {
		served += " dark"
	}
	if b.a11yChecked != nil && b.a11yFrameChecked && b.a11yChecked.has(served) {
		// The server sent a main content already opened and checked under
		// a frame this browser had checked: loading it would find nothing new.
		res.opened = true
		return res
	}
	defer func() {
		if res.opened && b.a11yChecked != nil {
			b.a11yChecked.add(served)
		}
	}()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		if b.ctx.Err() != nil {
			b.t.Fatalf("%s as %s: the browser context ended: %v", path, role, err)
		}
		// A download ends the navigation without a document.
		return res
	}
	if resp == nil || (resp.Status != http.StatusOK && !anyStatus) || !strings.HasPrefix(resp.MimeType, "text/html") {
		return res
	}
	if got := b.path(); got != path {
		return res // redirected
	}
	if !b.eval(`document.doctype !== null`) {
		return res // an htmx fragment, not a page
	}
	res.opened, res.loaded = true, true
	pruned := b.a11yPrune()
	if b.a11yChecked != nil && b.a11yFrameChecked && b.a11yChecked.seen(pruned.shape) {
		// Opened, and a main content of its shape already checked.
		res.violations = a11yDuplicateIDs(pruned.dups)
		return res
	}
	res.violations = b.a11yAxe(pruned.dups)
	b.a11yFrameChecked = true
	return res
}

// a11yWorthOpening asks the server, outside the browser but with the
// browser's cookies, whether path answers with an HTML document (status
// 200, or any status with anyStatus) at that address; only then does the
// browser load it. A page load is about half of the walk's CPU, and about
// two in five role × route pairs answer a redirect, a 403, a download or
// an htmx fragment, which the browser would load only to skip.
//
// served is a digest of the main content the server sent (a11yServedDigest).
func (b *browser) a11yWorthOpening(path string, anyStatus bool) (worth bool, served string) {
	b.t.Helper()
	got, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + path}})
	if err != nil {
		b.t.Fatalf("read the browser's cookies: %v", err)
	}
	req, err := http.NewRequestWithContext(b.ctx, http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	for _, c := range got.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	client := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	if !(res.StatusCode == http.StatusOK || anyStatus && res.StatusCode < 300 || anyStatus && res.StatusCode >= 400) ||
		!strings.HasPrefix(res.Header.Get(echo.HeaderContentType), "text/html") {
		return false, ""
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	if !strings.EqualFold(string(body[:min(len(body), len("<!doctype html>"))]), "<!doctype html>") {
		return false, ""
	}
	return true, a11yServedDigest(body)
}

var (
	a11yServedMain   = regexp.MustCompile(`(?s)<main[\s>].*</main>`)
	a11yHiddenInputs = regexp.MustCompile(`<input type="hidden"[^>]*>`)
)

// a11yServedDigest is a SHA-256 of the main element of a page as the
// server sent it (the whole page when it has none), without its hidden
// inputs (CSRF tokens differ per session). Its own key space in
// a11yChecked: the markup a browser serializes differs from the markup
// sent.
func a11yServedDigest(page []byte) string {
	main := a11yServedMain.Find(page)
	if main == nil {
		main = page
	}
	sum := sha256.Sum256(a11yHiddenInputs.ReplaceAll(main, nil))
	return "served:" + hex.EncodeToString(sum[:])
}

// a11yChecked remembers the main contents axe has checked, across the
// roles' browsers. Roles see many of the same pages: a contact's page reads
// the same to a staff admin and to a privacy officer, and the account page
// has one shape for everyone. Checking a page whose main content has the
// shape of one already checked (a11yPrune; colour scheme included), under a
// frame (header, navigation) this browser has already had checked, would
// find nothing new: axe's rules read the page's elements and their styles,
// and both parts were checked. It holds two kinds of digest: of the shapes
// checked, and of the main contents the server sent for pages loaded
// (a11yServedDigest), which are not loaded again.
type a11yChecked struct {
	mu      sync.Mutex
	digests map[string]bool
}

// has reports whether digest was recorded.
func (c *a11yChecked) has(digest string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.digests[digest]
}

// add records digest.
func (c *a11yChecked) add(digest string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.digests[digest] = true
}

// seen reports whether digest was checked, and records it as checked (the
// caller checks it when it was not).
func (c *a11yChecked) seen(digest string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.digests[digest] {
		return true
	}
	c.digests[digest] = true
	return false
}
