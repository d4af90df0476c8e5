package models_test

import (
	accounts "github.com/sendara/console/models/accounts"
	outbox "github.com/sendara/console/models/outbox"

	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// accountsLink makes the mailed URL of a token under prefix.
func accountsLink(prefix string) func(string) string {
	return func(token string) string { return "https://console.test" + prefix + token }
}

// accountsCreateInvite invites userID as actor and returns the token.
func accountsCreateInvite(t testing.TB, db *models.DB, actor store.Actor, userID string) (string, error) {
	t.Helper()
	inv, err := db.CreateInvite(t.Context(), actor, userID, accountsLink("/invite/"))
	if err != nil {
		return "", err
	}
	return inv.Token, nil
}

// accountsMails returns the outbox mail queued to addr, newest first.
func accountsMails(t testing.TB, db *models.DB, addr string) []outbox.OutboxMail {
	t.Helper()
	all, err := db.Outbox(t.Context(), modeltest.Staff, outbox.OutboxFilter{Limit: 500})
	if err != nil {
		t.Fatalf("outbox: %v", err)
	}
	var out []outbox.OutboxMail
	for _, m := range all {
		if m.ToAddr == addr {
			out = append(out, m)
		}
	}
	return out
}

// accountsTokenIn returns the token of the link under prefix in a mail body.
func accountsTokenIn(t testing.TB, body, prefix string) string {
	t.Helper()
	for line := range strings.Lines(body) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "https://console.test"+prefix); ok {
			return rest
		}
	}
	t.Fatalf("no %s link in the mail:\n%s", prefix, body)
	return ""
}

func TestAccountsInviteIsMailedWithItsLinkAndExpiryAndStoredHashed(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	admin := newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, "")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, "")

	inv, err := db.CreateInvite(t.Context(), admin.Actor(testIP), u.ID, accountsLink("/invite/"))
	if err != nil {
		t.Fatalf("CreateInvite: %v", err)
	}

	mails := accountsMails(t, db, u.Email)
	if len(mails) != 1 {
		t.Fatalf("%d mails to %s, want 1", len(mails), u.Email)
	}
	m := mails[0]
	if got := accountsTokenIn(t, m.BodyText, "/invite/"); got != inv.Token {
		t.Errorf("mailed token %q, want %q", got, inv.Token)
	}
	if want := inv.ExpiresAt.Format("2006-01-02 15:04") + " UTC"; !strings.Contains(m.BodyText, want) {
		t.Errorf("mail does not give the expiry %q:\n%s", want, m.BodyText)
	}
	if d := inv.ExpiresAt.Sub(time.Now()); d < accounts.InviteLifetime-time.Minute || d > accounts.InviteLifetime {
		t.Errorf("invitation expires in %s, want %s", d, accounts.InviteLifetime)
	}
	if m.CustomerID == nil || *m.CustomerID != acme.ID {
		t.Errorf("mail's customer = %v, want acme", m.CustomerID)
	}
	var stored []string
	if err := db.Gorm.Table("invites").Pluck("token_hash", &stored).Error; err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0] == inv.Token || len(stored[0]) != 64 {
		t.Errorf("invites hold %q, want one SHA-256 hex of the token, never the token", stored)
	}
	if e := onlyAuditEvent(t, db, "user.invite"); e.ObjectID != u.ID || e.ActorID != admin.ID || e.CustomerID != acme.ID {
		t.Errorf("user.invite on %q by %q for %v, want %s by %s for acme", e.ObjectID, e.ActorID, e.CustomerID, u.ID, admin.ID)
	}
	if n := len(auditEvents(t, db, "mail.queue")); n != 1 {
		t.Errorf("%d mail.queue events, want 1", n)
	}
}

func TestAccountsInviteLinkStates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, db *models.DB, userID, token string) string // returns the token to try
		wantErr error                                                          // nil: the link works
		expired bool
	}{
		{"fresh", func(t *testing.T, db *models.DB, userID, token string) string { return token }, nil, false},
		{"expired", func(t *testing.T, db *models.DB, userID, token string) string {
			if err := db.Gorm.Exec("UPDATE invites SET expires_at = ?", time.Now().UTC().Add(-time.Minute)).Error; err != nil {
				t.Fatal(err)
			}
			return token
		}, accounts.ErrInviteInvalid, true},
		{"used", func(t *testing.T, db *models.DB, userID, token string) string {
			if err := db.AcceptInvite(t.Context(), token, goodPassword, testIP); err != nil {
				t.Fatalf("AcceptInvite: %v", err)
			}
			return token
		}, accounts.ErrInviteInvalid, false},
		{"replaced by a resend", func(t *testing.T, db *models.DB, userID, token string) string {
			if _, err := accountsCreateInvite(t, db, modeltest.Staff, userID); err != nil {
				t.Fatalf("resend: %v", err)
			}
			return token
		}, accounts.ErrInviteInvalid, false},
		{"revoked", func(t *testing.T, db *models.DB, userID, token string) string {
			if err := db.RevokeInvite(t.Context(), modeltest.Staff, userID); err != nil {
				t.Fatalf("RevokeInvite: %v", err)
			}
			return token
		}, accounts.ErrInviteInvalid, false},
		{"unknown", func(t *testing.T, db *models.DB, userID, token string) string { return "no-such-token" }, accounts.ErrInviteInvalid, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := modeltest.Open(t)
			acme := newCustomer(t, db, "acme")
			u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, "")
			token, err := accountsCreateInvite(t, db, modeltest.Staff, u.ID)
			if err != nil {
				t.Fatalf("CreateInvite: %v", err)
			}
			try := tt.prepare(t, db, u.ID, token)

			_, lookErr := db.InviteUser(t.Context(), try)
			acceptErr := db.AcceptInvite(t.Context(), try, "another fine passphrase 77", testIP)

			for what, err := range map[string]error{"InviteUser": lookErr, "AcceptInvite": acceptErr} {
				if tt.wantErr == nil && err != nil {
					t.Errorf("%s = %v, want the link to work", what, err)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("%s = %v, want %v", what, err, tt.wantErr)
				}
				var exp *accounts.InviteExpiredError
				if errors.As(err, &exp) != tt.expired {
					t.Errorf("%s = %v; expired error: %v, want %v", what, err, !tt.expired, tt.expired)
				}
			}
		})
	}
}

func TestAccountsResendAuditsItAndPendingListShowsTheNewExpiry(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, "")
	if _, err := accountsCreateInvite(t, db, modeltest.Staff, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Exec("UPDATE invites SET expires_at = ?", time.Now().UTC().Add(-time.Hour)).Error; err != nil {
		t.Fatal(err)
	}
	pending, err := db.PendingInvites(t.Context(), modeltest.Staff)
	if err != nil || len(pending) != 1 || !pending[0].Expired() {
		t.Fatalf("PendingInvites before the resend = %+v, %v; want one expired", pending, err)
	}

	inv, err := db.CreateInvite(t.Context(), modeltest.Staff, u.ID, accountsLink("/invite/"))
	if err != nil {
		t.Fatalf("resend: %v", err)
	}

	if !inv.Resent {
		t.Error("Invitation.Resent = false after replacing an unused link")
	}
	pending, err = db.PendingInvites(t.Context(), modeltest.Staff)
	if err != nil || len(pending) != 1 || pending[0].Expired() || !pending[0].ExpiresAt.Equal(inv.ExpiresAt) {
		t.Fatalf("PendingInvites after the resend = %+v, %v; want one expiring %s", pending, err, inv.ExpiresAt)
	}
	if e := onlyAuditEvent(t, db, "user.invite_resend"); e.ObjectID != u.ID {
		t.Errorf("user.invite_resend on %q, want %s", e.ObjectID, u.ID)
	}
	if n := len(accountsMails(t, db, u.Email)); n != 2 {
		t.Errorf("%d mails to the invitee, want 2 (invitation and resend)", n)
	}
}

func TestAccountsCustomerAdminManagesOnlyItsOwnTenantsInvitations(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	other := newCustomer(t, db, "other")
	admin := newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, "").Actor(testIP)
	mine := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, "")
	theirs := newUser(t, db, "agent@other.test", accounts.RoleCustomerAgent, other.ID, "")
	for _, u := range []*accounts.User{mine, theirs} {
		if _, err := accountsCreateInvite(t, db, modeltest.Staff, u.ID); err != nil {
			t.Fatal(err)
		}
	}

	pending, err := db.PendingInvites(t.Context(), admin)
	if err != nil || len(pending) != 1 || pending[0].UserID != mine.ID {
		t.Errorf("acme admin's PendingInvites = %+v, %v; want only %s", pending, err, mine.Email)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"CreateInvite", func() error { _, err := accountsCreateInvite(t, db, admin, theirs.ID); return err }},
		{"RevokeInvite", func() error { return db.RevokeInvite(t.Context(), admin, theirs.ID) }},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s on another tenant's user = %v, want ErrNotFound", tt.name, err)
		}
	}
	if err := db.RevokeInvite(t.Context(), admin, mine.ID); err != nil {
		t.Fatalf("RevokeInvite of an own user: %v", err)
	}
	if e := onlyAuditEvent(t, db, "user.invite_revoke"); e.ObjectID != mine.ID {
		t.Errorf("user.invite_revoke on %q, want %s", e.ObjectID, mine.ID)
	}
	if err := db.RevokeInvite(t.Context(), admin, mine.ID); err == nil {
		t.Error("revoking twice succeeded, want a validation error (nothing pending)")
	} else {
		wantInvalid(t, err, "user")
	}
	if all, _ := db.PendingInvites(t.Context(), modeltest.Staff); len(all) != 1 || all[0].UserID != theirs.ID {
		t.Errorf("staff PendingInvites after the revoke = %+v, want only %s", all, theirs.Email)
	}
}

// Password reset.

func TestAccountsPasswordResetRequestAnswersAlikeAndMailsOnlyRealAccounts(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	active := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)
	disabled := newUser(t, db, "leaver@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)
	if err := db.SetUserDisabled(t.Context(), modeltest.Staff, disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	invited := newUser(t, db, "invited@acme.test", accounts.RoleCustomerAgent, acme.ID, "")

	tests := []struct {
		email   string
		outcome string
		mailed  bool
	}{
		{" Agent@ACME.test ", "mailed", true},
		{"nobody@acme.test", "no_account", false},
		{disabled.Email, "disabled", false},
		{invited.Email, "no_password", false},
	}
	for i, tt := range tests {
		err := db.RequestPasswordReset(t.Context(), tt.email, testIP, accountsLink("/password-reset/"))
		if err != nil {
			t.Errorf("RequestPasswordReset(%q) = %v, want nil like every address", tt.email, err)
		}
		addr := strings.ToLower(strings.TrimSpace(tt.email))
		if n := len(accountsMails(t, db, addr)); (n == 1) != tt.mailed || n > 1 {
			t.Errorf("%q: %d mails, want mailed=%v", tt.email, n, tt.mailed)
		}
		es := auditEvents(t, db, "user.password_reset_request")
		if len(es) != i+1 {
			t.Fatalf("%q: %d user.password_reset_request events, want %d", tt.email, len(es), i+1)
		}
		if d := detailsOf(t, es[0]); d["outcome"] != tt.outcome || d["email"] != addr {
			t.Errorf("%q: audit details %v, want outcome %s", tt.email, d, tt.outcome)
		}
	}
	var stored []string
	if err := db.Gorm.Table("password_resets").Pluck("token_hash", &stored).Error; err != nil {
		t.Fatal(err)
	}
	token := accountsTokenIn(t, accountsMails(t, db, active.Email)[0].BodyText, "/password-reset/")
	if len(stored) != 1 || stored[0] == token || len(stored[0]) != 64 {
		t.Errorf("password_resets hold %q, want one SHA-256 hex, never the token", stored)
	}
}

func TestAccountsPasswordResetLinkStates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, db *models.DB, email, token string) string
		wantErr error
		expired bool
	}{
		{"fresh", func(t *testing.T, db *models.DB, email, token string) string { return token }, nil, false},
		{"after an hour", func(t *testing.T, db *models.DB, email, token string) string {
			if err := db.Gorm.Exec("UPDATE password_resets SET expires_at = ?", time.Now().UTC().Add(-time.Second)).Error; err != nil {
				t.Fatal(err)
			}
			return token
		}, accounts.ErrResetInvalid, true},
		{"used", func(t *testing.T, db *models.DB, email, token string) string {
			if err := db.ResetPassword(t.Context(), token, goodPassword+" x", testIP); err != nil {
				t.Fatalf("first ResetPassword: %v", err)
			}
			return token
		}, accounts.ErrResetInvalid, false},
		{"replaced by a newer request", func(t *testing.T, db *models.DB, email, token string) string {
			if err := db.RequestPasswordReset(t.Context(), email, testIP, accountsLink("/password-reset/")); err != nil {
				t.Fatal(err)
			}
			return token
		}, accounts.ErrResetInvalid, false},
		{"unknown", func(t *testing.T, db *models.DB, email, token string) string { return "nope" }, accounts.ErrResetInvalid, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := modeltest.Open(t)
			acme := newCustomer(t, db, "acme")
			u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)
			if err := db.RequestPasswordReset(t.Context(), u.Email, testIP, accountsLink("/password-reset/")); err != nil {
				t.Fatal(err)
			}
			token := accountsTokenIn(t, accountsMails(t, db, u.Email)[0].BodyText, "/password-reset/")
			try := tt.prepare(t, db, u.Email, token)

			_, lookErr := db.PasswordResetUser(t.Context(), try)
			resetErr := db.ResetPassword(t.Context(), try, "another fine passphrase 77", testIP)

			for what, err := range map[string]error{"PasswordResetUser": lookErr, "ResetPassword": resetErr} {
				if tt.wantErr == nil && err != nil {
					t.Errorf("%s = %v, want the link to work", what, err)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("%s = %v, want %v", what, err, tt.wantErr)
				}
				var exp *accounts.ResetExpiredError
				if errors.As(err, &exp) != tt.expired {
					t.Errorf("%s = %v; want expired=%v", what, err, tt.expired)
				}
			}
			_, loginErr := db.Login(t.Context(), u.Email, "another fine passphrase 77", testIP, "test", testPolicy)
			if (loginErr == nil) != (tt.wantErr == nil) {
				t.Errorf("Login with the new password = %v; want success only when the link worked", loginErr)
			}
		})
	}
}

func TestAccountsPasswordResetEndsSessionsKeepsTheSecondFactorAndIsAudited(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	old, _, _ := enrolled(t, db)
	email := old.User.Email
	if err := db.RequestPasswordReset(t.Context(), email, testIP, accountsLink("/password-reset/")); err != nil {
		t.Fatal(err)
	}
	token := accountsTokenIn(t, accountsMails(t, db, email)[0].BodyText, "/password-reset/")

	if err := db.ResetPassword(t.Context(), token, "a weak one", testIP); err == nil {
		t.Fatal("a too-short password was accepted")
	} else {
		wantInvalid(t, err, "password")
	}
	if _, err := db.PasswordResetUser(t.Context(), token); err != nil {
		t.Fatalf("the link after a refused password = %v, want still valid", err)
	}
	const chosen = "lantern orchard quietly 5521"
	if err := db.ResetPassword(t.Context(), token, chosen, testIP); err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}

	if _, _, err := db.LoadSession(t.Context(), old.Token, testPolicy); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("a session from before the reset = %v, want ErrNoSession", err)
	}
	res, err := db.Login(t.Context(), email, chosen, testIP, "test", testPolicy)
	if err != nil {
		t.Fatalf("Login with the new password: %v", err)
	}
	if !res.NeedsMFA {
		t.Error("after a reset, sign-in skips the second factor; want it still asked")
	}
	if e := onlyAuditEvent(t, db, "user.password_reset"); e.ObjectID != old.User.ID || e.ActorID != old.User.ID {
		t.Errorf("user.password_reset on %q by %q, want both %s", e.ObjectID, e.ActorID, old.User.ID)
	}
}

func TestAccountsPasswordResetRequestsAreThrottledAlikeForEveryAddress(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)
	for _, email := range []string{u.Email, "nobody@acme.test"} {
		for i := range accounts.ResetAccountThrottle.Free {
			if err := db.RequestPasswordReset(t.Context(), email, testIP, accountsLink("/password-reset/")); err != nil {
				t.Fatalf("%s request %d: %v", email, i+1, err)
			}
		}
		err := db.RequestPasswordReset(t.Context(), email, testIP, accountsLink("/password-reset/"))
		var rl *store.RateLimitError
		if !errors.As(err, &rl) || rl.Scope != "reset_account" {
			t.Errorf("%s request %d = %v, want a reset_account RateLimitError", email, accounts.ResetAccountThrottle.Free+1, err)
		}
	}
	if n := len(accountsMails(t, db, u.Email)); n != accounts.ResetAccountThrottle.Free {
		t.Errorf("%d reset mails, want %d (none for the refused request)", n, accounts.ResetAccountThrottle.Free)
	}
	limited := 0
	for _, e := range auditEvents(t, db, "user.password_reset_request") {
		if detailsOf(t, e)["outcome"] == "rate_limited" {
			limited++
		}
	}
	if limited != 2 {
		t.Errorf("%d rate_limited audit events, want 2", limited)
	}
	if err := db.RequestPasswordReset(t.Context(), "not an address", testIP, accountsLink("/password-reset/")); err == nil {
		t.Error("a malformed address was accepted")
	} else {
		wantInvalid(t, err, "email")
	}
}
