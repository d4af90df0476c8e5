package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	outbox "github.com/sendara/console/models/outbox"

	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	store "github.com/sendara/console/models/store"
)

var accountsLinkPattern = regexp.MustCompile(`(/(?:invite|password-reset)/[A-Za-z0-9_-]+)`)

// accountsMailedLink returns the path of the link under prefix in the
// newest mail queued to addr, as its reader would follow it.
func accountsMailedLink(t *testing.T, app *testApp, addr, prefix string) string {
	t.Helper()
	m := app.outboxTo(t, addr, outbox.MailOther)
	for _, found := range accountsLinkPattern.FindAllString(m.BodyText, -1) {
		if strings.HasPrefix(found, prefix) {
			return found
		}
	}
	t.Fatalf("no %s link in the mail to %s:\n%s", prefix, addr, m.BodyText)
	return ""
}

func TestAccountsInvitationIsMailedListedResentAndRevoked(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, other := app.customer("acme"), app.customer("other")
	adminC, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	otherC, _ := app.signedIn(accounts.RoleCustomerAdmin, other, "admin@other.test")
	const email = "new.agent@acme.test"

	adminC.get("/users")
	p := adminC.post("/users", url.Values{"email": {email}, "name": {"New Agent"}, "role": {"customer_agent"}})
	if p.Status != http.StatusSeeOther || p.Location() != "/users" {
		t.Fatalf("POST /users: status %d to %q, want 303 to /users", p.Status, p.Location())
	}
	first := accountsMailedLink(t, app, email, "/invite/")
	p = adminC.get("/users")
	if flash := p.text(".flash"); !strings.Contains(flash, "Invitation mailed to "+email) || !strings.Contains(flash, "UTC") {
		t.Errorf("flash after inviting = %q, want it to say the invitation was mailed and until when", flash)
	}
	row := p.text(`[data-testid="pending-invites"] tbody tr`)
	// The page shows the expiry in the business time zone.
	want := time.Now().Add(accounts.InviteLifetime).In(app.db.Business().Loc).Format("2006-01-02")
	if !strings.Contains(row, email) || !strings.Contains(row, want) {
		t.Errorf("pending invitation row %q, want %s expiring on %s", row, email, want)
	}
	var invitee *accounts.User
	us, _ := app.db.Users(context.Background(), store.StaffUser("t", "t", ""))
	for i := range us {
		if us[i].Email == email {
			invitee = &us[i]
		}
	}
	if invitee == nil {
		t.Fatal("the invited user was not created")
	}

	// Another tenant's admin cannot see, resend nor revoke it.
	if row := otherC.get("/users").text(`[data-testid="pending-invites"]`); strings.Contains(row, email) {
		t.Errorf("another tenant's admin sees the invitation: %q", row)
	}
	for _, path := range []string{"/users/" + invitee.ID + "/invite", "/users/" + invitee.ID + "/invite/revoke"} {
		if p := otherC.post(path, nil); p.Status != http.StatusNotFound {
			t.Errorf("POST %s by another tenant's admin: status %d, want 404", path, p.Status)
		}
	}

	// Resend: a new link; the first stops working.
	adminC.get("/users")
	if p := adminC.post("/users/"+invitee.ID+"/invite", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("resend: status %d, want 303", p.Status)
	}
	second := accountsMailedLink(t, app, email, "/invite/")
	if second == first {
		t.Fatal("the resent mail carries the same link")
	}
	if flash := adminC.get("/users").text(".flash"); !strings.Contains(flash, "earlier link no longer works") {
		t.Errorf("flash after resending = %q", flash)
	}
	invitee1 := app.client()
	if p := invitee1.get(first); p.Status != http.StatusNotFound {
		t.Errorf("GET the replaced link: status %d, want 404", p.Status)
	}
	if p := invitee1.get(second); p.Status != http.StatusOK {
		t.Errorf("GET the resent link: status %d, want 200", p.Status)
	}

	// Revoke: the link stops working and the list is empty.
	adminC.get("/users")
	if p := adminC.post("/users/"+invitee.ID+"/invite/revoke", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("revoke: status %d, want 303", p.Status)
	}
	if p := adminC.get("/users"); p.Doc.Find(`[data-testid="no-pending-invites"]`).Length() != 1 {
		t.Errorf("after the revoke the users page still lists: %q", p.text(`[data-testid="pending-invites"]`))
	}
	if p := app.client().get(second); p.Status != http.StatusNotFound {
		t.Errorf("GET the revoked link: status %d, want 404", p.Status)
	}
	actions := app.auditActions()
	for _, a := range []string{"user.invite", "user.invite_resend", "user.invite_revoke", "mail.queue"} {
		if !slices.Contains(actions, a) {
			t.Errorf("audit log lacks %s", a)
		}
	}
}

func TestAccountsExpiredInvitationIsRefusedWithAClearPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	adminC, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	adminC.get("/users")
	adminC.post("/users", url.Values{"email": {"late@acme.test"}, "role": {"customer_agent"}})
	link := accountsMailedLink(t, app, "late@acme.test", "/invite/")
	if err := app.db.Gorm.Exec("UPDATE invites SET expires_at = ?", time.Now().UTC().Add(-time.Minute)).Error; err != nil {
		t.Fatal(err)
	}

	c := app.client()
	p := c.get(link)
	if p.Status != http.StatusNotFound || !strings.Contains(p.text("main"), "expired on") || !strings.Contains(p.text("main"), "resend") {
		t.Errorf("GET an expired invitation: status %d, text %q; want 404 saying it expired and to ask for a resend", p.Status, p.text("main"))
	}
	if p.Doc.Find(`input[name="password"]`).Length() != 0 {
		t.Error("an expired invitation still offers the password form")
	}
	c.get("/login")
	if p := c.post(link, url.Values{"password": {"violet anchor mountain drift 42"}}); p.Status != http.StatusNotFound {
		t.Errorf("POST an expired invitation: status %d, want 404", p.Status)
	}
	if p := adminC.get("/users"); !strings.Contains(p.text(`[data-testid="pending-invites"]`), "expired") {
		t.Errorf("the users page does not show the invitation as expired: %q", p.text(`[data-testid="pending-invites"]`))
	}
}

func TestAccountsForgotPasswordAnswersAlikeAndResetsThroughTheMailedLink(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	oldC, agent := app.signedIn(accounts.RoleCustomerAgent, acme, "agent@acme.test")

	c := app.client()
	if p := c.get("/login"); p.Doc.Find(`a[href="/password-reset"]`).Length() != 1 {
		t.Fatal("the sign-in page has no link to /password-reset")
	}
	answers := map[string]string{}
	for _, email := range []string{"nobody@acme.test", agent.User.Email} {
		c.get("/password-reset")
		p := c.post("/password-reset", url.Values{"email": {email}})
		if p.Status != http.StatusOK {
			t.Fatalf("POST /password-reset for %s: status %d, want 200", email, p.Status)
		}
		answers[email] = strings.ReplaceAll(p.text(`[data-testid="reset-requested"]`), email, "ADDRESS")
	}
	if a, b := answers["nobody@acme.test"], answers[agent.User.Email]; a != b || !strings.Contains(a, "If an account exists") {
		t.Errorf("answers differ or say too much:\n unknown: %q\n known:   %q", a, b)
	}
	link := accountsMailedLink(t, app, agent.User.Email, "/password-reset/")

	owner := app.client()
	if p := owner.get(link); p.Status != http.StatusOK || !strings.Contains(p.text("main"), agent.User.Email) {
		t.Fatalf("GET the reset link: status %d, text %q", p.Status, p.text("main"))
	}
	if p := owner.post(link, url.Values{"password": {"short one"}}); p.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.text("#err-password"), "at least 12 characters") {
		t.Errorf("a short password: status %d, error %q; want 422 naming the rule", p.Status, p.text("#err-password"))
	}
	const chosen = "violet anchor mountain drift 42"
	if p := owner.post(link, url.Values{"password": {chosen}}); p.Status != http.StatusSeeOther || p.Location() != "/login" {
		t.Fatalf("a good password: status %d to %q, want 303 to /login", p.Status, p.Location())
	}
	if p := oldC.get("/"); p.Status != http.StatusSeeOther || p.Location() != "/login" {
		t.Errorf("a session from before the reset: GET / status %d to %q, want 303 to /login", p.Status, p.Location())
	}
	if p := app.client().get(link); p.Status != http.StatusNotFound || p.Doc.Find(`[data-testid="reset-invalid"]`).Length() != 1 {
		t.Errorf("GET the spent link: status %d, want 404 with the explanation", p.Status)
	}
	app.client().login(&account{User: agent.User, Password: chosen})

	var requests, resets int
	for _, a := range app.auditActions() {
		switch a {
		case "user.password_reset_request":
			requests++
		case "user.password_reset":
			resets++
		}
	}
	if requests != 2 || resets != 1 {
		t.Errorf("audit: %d user.password_reset_request (want 2: known and unknown address), %d user.password_reset (want 1)", requests, resets)
	}
}

func TestAccountsForgotPasswordIsRateLimitedAndKeepsTheSecondFactor(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	c := app.client()
	for i := range accounts.ResetAccountThrottle.Free {
		c.get("/password-reset")
		if p := c.post("/password-reset", url.Values{"email": {officer.User.Email}}); p.Status != http.StatusOK {
			t.Fatalf("request %d: status %d", i+1, p.Status)
		}
	}
	c.get("/password-reset")
	p := c.post("/password-reset", url.Values{"email": {officer.User.Email}})
	if p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" || !strings.Contains(p.text(`[data-testid="reset-error"]`), "Try again in") {
		t.Errorf("request %d: status %d, Retry-After %q, error %q; want 429 saying when to try again",
			accounts.ResetAccountThrottle.Free+1, p.Status, p.Header.Get("Retry-After"), p.text(`[data-testid="reset-error"]`))
	}

	link := accountsMailedLink(t, app, officer.User.Email, "/password-reset/")
	owner := app.client()
	owner.get(link)
	const chosen = "violet anchor mountain drift 42"
	if p := owner.post(link, url.Values{"password": {chosen}}); p.Status != http.StatusSeeOther {
		t.Fatalf("reset: status %d, want 303", p.Status)
	}
	owner.get("/login")
	if p := owner.post("/login", url.Values{"email": {officer.User.Email}, "password": {chosen}}); p.Location() != "/login/totp" {
		t.Errorf("sign-in after a reset: status %d to %q, want the second-factor step", p.Status, p.Location())
	}
	if p := owner.get("/"); p.Status != http.StatusSeeOther || p.Location() != "/login/totp" {
		t.Errorf("GET / with the new password alone: status %d to %q, want the second-factor step", p.Status, p.Location())
	}
}
