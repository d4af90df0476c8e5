package handlers_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	accounts "github.com/sendara/console/models/accounts"
)

func TestBrowserAccountsForgotPasswordEndToEnd(t *testing.T) {
	app := newTestApp(t)
	agent := app.user(accounts.RoleCustomerAgent, app.customer("acme"), "agent@acme.test")

	b := newBrowser(t, app)
	b.do(
		chromedp.Navigate(b.base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=forgot-password]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=forgot-password]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=forgot-form]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=forgot-form] input[name=email]`), agent.User.Email),
		chromedp.Click(chromedp.CSS(`[data-testid=forgot-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=reset-requested]`)),
	)
	if got := b.text(`[data-testid=reset-requested]`); !strings.HasPrefix(got, "If an account exists for "+agent.User.Email) {
		t.Errorf("answer = %q", got)
	}

	link := accountsMailedLink(t, app, agent.User.Email, "/password-reset/")
	const chosen = "violet anchor mountain drift 42"
	b.do(
		chromedp.Navigate(b.base+link),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=reset-form]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=reset-form] input[name=password]`), chosen),
		chromedp.Click(chromedp.CSS(`[data-testid=reset-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
	)
	if got := b.text(`.flash`); !strings.Contains(got, "new password is set") {
		t.Errorf("flash on the sign-in page = %q", got)
	}

	b.signIn(agent.User.Email, chosen)
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=whoami]`)))
	if got := b.text(`[data-testid=whoami]`); got != agent.User.Email {
		t.Errorf("signed in as %q, want %s", got, agent.User.Email)
	}
	b.noConsoleErrors()
}
