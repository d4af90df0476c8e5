package models_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/sendara/console/models"
	accounts "github.com/sendara/console/models/accounts"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func login(t testing.TB, db *models.DB, email, password string) *accounts.LoginResult {
	t.Helper()
	res, err := db.Login(t.Context(), email, password, testIP, "test agent", testPolicy)
	if err != nil {
		t.Fatalf("Login %s: %v", email, err)
	}
	return res
}

// Login.

func TestLoginAsksForASecondFactorFromStaffRolesOnly(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	tests := []struct {
		role     accounts.Role
		customer string
		needsMFA bool
	}{
		{accounts.RoleStaffAdmin, "", true},
		{accounts.RolePrivacyOfficer, "", true},
		{accounts.RoleAuditor, "", true},
		{accounts.RoleCustomerAdmin, acme.ID, false},
		{accounts.RoleCustomerAgent, acme.ID, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			email := string(tt.role) + "@example.com"
			u := newUser(t, db, email, tt.role, tt.customer, goodPassword)

			res := login(t, db, email, goodPassword)

			if res.Token == "" || res.User.ID != u.ID {
				t.Fatalf("Login = token %q user %s, want a token for %s", res.Token, res.User.ID, u.ID)
			}
			if res.NeedsMFA != tt.needsMFA {
				t.Errorf("NeedsMFA = %v, want %v", res.NeedsMFA, tt.needsMFA)
			}
			s, _, err := db.LoadSession(t.Context(), res.Token, testPolicy)
			if err != nil {
				t.Fatalf("LoadSession: %v", err)
			}
			if s.MFAPassed == tt.needsMFA {
				t.Errorf("new session MFAPassed = %v, want %v", s.MFAPassed, !tt.needsMFA)
			}
		})
	}
}

func TestLoginIsAudited(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)

	login(t, db, u.Email, goodPassword)

	e := onlyAuditEvent(t, db, "user.login")
	if e.ActorID != u.ID || e.IP != testIP || e.CustomerID != acme.ID {
		t.Errorf("user.login event by %q from %q in %q, want %s from %s in %s", e.ActorID, e.IP, e.CustomerID, u.ID, testIP, acme.ID)
	}
}

func TestLoginWithAWrongPasswordFailsAndIsAudited(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)

	res, err := db.Login(t.Context(), u.Email, "not the right passphrase", testIP, "test", testPolicy)

	if !errors.Is(err, accounts.ErrBadCredentials) || res != nil {
		t.Fatalf("Login with a wrong password = %v, %v; want nil, ErrBadCredentials", res, err)
	}
	e := onlyAuditEvent(t, db, "user.login_failed")
	if e.ObjectID != u.ID || e.IP != testIP || detailsOf(t, e)["reason"] != "bad_credentials" {
		t.Errorf("user.login_failed event on %q from %q details %s, want %s from %s for bad_credentials", e.ObjectID, e.IP, e.Details, u.ID, testIP)
	}
}

func TestLoginWithAnUnknownEmailGivesTheSameAnswer(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)

	_, err := db.Login(t.Context(), "nobody@example.com", goodPassword, testIP, "test", testPolicy)

	if !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatalf("Login with an unknown email = %v, want ErrBadCredentials", err)
	}
	if e := onlyAuditEvent(t, db, "user.login_failed"); e.ActorLabel != "nobody@example.com" {
		t.Errorf("user.login_failed event labelled %q, want the attempted email", e.ActorLabel)
	}
}

func TestLoginWithTheEmailInAnotherCaseWorks(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	u := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", goodPassword)

	res := login(t, db, "  Officer@Sendara.TEST ", goodPassword)

	if res.User.ID != u.ID {
		t.Errorf("Login signed in %s, want %s", res.User.ID, u.ID)
	}
}

func TestLoginIsRateLimitedPerAccount(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	u := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", goodPassword)
	for i := range store.AccountThrottle.Free {
		if _, err := db.Login(t.Context(), u.Email, "wrong guess number "+fmt.Sprint(i), testIP, "test", testPolicy); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatalf("failure %d: %v, want ErrBadCredentials", i+1, err)
		}
	}

	_, err := db.Login(t.Context(), u.Email, goodPassword, "198.51.100.7", "test", testPolicy)

	var rl *store.RateLimitError
	if !errors.As(err, &rl) || rl.Scope != "account" {
		t.Fatalf("Login after %d failures = %v, want a RateLimitError on the account", store.AccountThrottle.Free, err)
	}
	if rl.RetryAfter <= 0 || rl.RetryAfter > store.AccountThrottle.Base {
		t.Errorf("RetryAfter = %v, want a short wait within (0, %v]", rl.RetryAfter, store.AccountThrottle.Base)
	}
}

func TestLoginIsRateLimitedPerAddress(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	u := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", goodPassword)
	for i := range store.AddressThrottle.Free {
		email := fmt.Sprintf("guess%d@example.com", i)
		if _, err := db.Login(t.Context(), email, goodPassword, testIP, "test", testPolicy); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatalf("failure %d: %v, want ErrBadCredentials", i+1, err)
		}
	}

	_, err := db.Login(t.Context(), u.Email, goodPassword, testIP, "test", testPolicy)

	var rl *store.RateLimitError
	if !errors.As(err, &rl) || rl.Scope != "address" {
		t.Fatalf("Login after %d failures from one address = %v, want a RateLimitError on the address", store.AddressThrottle.Free, err)
	}
	if _, err := db.Login(t.Context(), u.Email, goodPassword, "198.51.100.7", "test", testPolicy); err != nil {
		t.Errorf("Login from another address = %v, want it allowed", err)
	}
}

func TestSuccessfulLoginClearsTheAccountsFailures(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	u := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", goodPassword)
	fail := func() {
		t.Helper()
		if _, err := db.Login(t.Context(), u.Email, "a mistyped passphrase", testIP, "test", testPolicy); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatalf("failed Login = %v, want ErrBadCredentials", err)
		}
	}
	for range store.AccountThrottle.Free - 1 {
		fail()
	}
	login(t, db, u.Email, goodPassword)
	fail()

	if _, err := db.Login(t.Context(), u.Email, goodPassword, testIP, "test", testPolicy); err != nil {
		t.Errorf("Login after a success and one more failure = %v, want allowed", err)
	}
}

func TestLoginStartsAFreshSessionEachTime(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)

	first := login(t, db, u.Email, goodPassword)
	second := login(t, db, u.Email, goodPassword)

	if first.Token == second.Token {
		t.Fatalf("two logins gave the same token")
	}
	s1, _, err1 := db.LoadSession(t.Context(), first.Token, testPolicy)
	s2, _, err2 := db.LoadSession(t.Context(), second.Token, testPolicy)
	if err1 != nil || err2 != nil || s1.IDHash == s2.IDHash {
		t.Errorf("sessions %v (%v) and %v (%v), want two distinct live sessions", s1, err1, s2, err2)
	}
}

func TestCancelledCustomersUserCannotLogIn(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)
	if err := db.CancelCustomer(t.Context(), modeltest.Staff, acme.ID); err != nil {
		t.Fatalf("CancelCustomer: %v", err)
	}

	_, err := db.Login(t.Context(), u.Email, goodPassword, testIP, "test", testPolicy)

	if !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatalf("Login for a cancelled customer = %v, want ErrBadCredentials", err)
	}
	if d := detailsOf(t, onlyAuditEvent(t, db, "user.login_failed")); d["reason"] != "customer_inactive" {
		t.Errorf("user.login_failed reason = %v, want customer_inactive", d["reason"])
	}
}

// Sessions.

func TestLoadSessionReturnsTheSignedInUser(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)
	res := login(t, db, u.Email, goodPassword)

	s, got, err := db.LoadSession(t.Context(), res.Token, testPolicy)
	if err != nil {
		t.Fatalf("LoadSession: %v", err)
	}

	if got.ID != u.ID || s.UserID != u.ID || got.Role() != accounts.RoleCustomerAgent {
		t.Errorf("LoadSession = session of %s, user %s (%s); want %s as customer_agent", s.UserID, got.ID, got.Role(), u.ID)
	}
	if s.IDHash == res.Token {
		t.Errorf("the session is stored under its plain token")
	}
}

func TestLoadSessionRefusesTokensOfNoLiveSession(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)
	live := login(t, db, u.Email, goodPassword).Token
	pastAbsolute, err := db.Login(t.Context(), u.Email, goodPassword, testIP, "test",
		accounts.SessionPolicy{Idle: time.Hour, Absolute: -time.Second})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}

	tests := []struct {
		name   string
		token  string
		policy accounts.SessionPolicy
	}{
		{"an empty token", "", testPolicy},
		{"a token never issued", "bm90LWEtdG9rZW4", testPolicy},
		{"a session idle longer than the policy allows", live, accounts.SessionPolicy{Idle: -time.Second, Absolute: time.Hour}},
		{"a session past its absolute limit", pastAbsolute.Token, testPolicy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := db.LoadSession(t.Context(), tt.token, tt.policy); !errors.Is(err, accounts.ErrNoSession) {
				t.Errorf("LoadSession = %v, want ErrNoSession", err)
			}
		})
	}
}

func TestAnIdleSessionStaysEndedUnderALaterPolicy(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)
	token := login(t, db, u.Email, goodPassword).Token
	// The session was last seen two hours ago.
	if err := db.Gorm.Exec("UPDATE sessions SET last_seen_at = ?", store.Now().Add(-2*time.Hour)).Error; err != nil {
		t.Fatalf("age the session: %v", err)
	}
	if _, _, err := db.LoadSession(t.Context(), token, accounts.SessionPolicy{Idle: time.Hour, Absolute: 12 * time.Hour}); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatalf("LoadSession after two idle hours with a one-hour limit = %v, want ErrNoSession", err)
	}

	_, _, err := db.LoadSession(t.Context(), token, accounts.SessionPolicy{Idle: 24 * time.Hour, Absolute: 48 * time.Hour})

	if !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("LoadSession of an ended session under a laxer policy = %v, want ErrNoSession", err)
	}
}

func TestLogoutEndsTheSessionAndIsAudited(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)
	res := login(t, db, u.Email, goodPassword)

	if err := db.Logout(t.Context(), u.Actor(testIP), res.Token); err != nil {
		t.Fatalf("Logout: %v", err)
	}

	if _, _, err := db.LoadSession(t.Context(), res.Token, testPolicy); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("LoadSession after Logout = %v, want ErrNoSession", err)
	}
	if e := onlyAuditEvent(t, db, "user.logout"); e.ActorID != u.ID || e.ObjectID != u.ID {
		t.Errorf("user.logout event by %q on %q, want %s", e.ActorID, e.ObjectID, u.ID)
	}
}

func TestSessionOfAUserDisabledBehindItsBackStopsWorking(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)
	res := login(t, db, u.Email, goodPassword)
	// Disabled without ending the sessions, as a direct database edit would.
	if err := db.Gorm.Exec("UPDATE users SET disabled_at = ? WHERE id = ?", store.Now(), u.ID).Error; err != nil {
		t.Fatalf("disable user: %v", err)
	}

	_, _, err := db.LoadSession(t.Context(), res.Token, testPolicy)

	if !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("LoadSession for a disabled user = %v, want ErrNoSession", err)
	}
}

func TestSessionOfACancelledCustomersUserStopsWorking(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	u := newUser(t, db, "agent@acme.test", accounts.RoleCustomerAgent, acme.ID, goodPassword)
	res := login(t, db, u.Email, goodPassword)

	if err := db.CancelCustomer(t.Context(), modeltest.Staff, acme.ID); err != nil {
		t.Fatalf("CancelCustomer: %v", err)
	}

	if _, _, err := db.LoadSession(t.Context(), res.Token, testPolicy); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("LoadSession for a cancelled customer's user = %v, want ErrNoSession", err)
	}
}

// Second factor.

// enrolled signs in a staff user, enrols TOTP and returns a fresh login
// that still has to pass the second factor, with the recovery codes.
func enrolled(t *testing.T, db *models.DB) (res *accounts.LoginResult, secret string, codes []string) {
	t.Helper()
	u := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", goodPassword)
	first := login(t, db, u.Email, goodPassword)
	key, err := db.BeginTOTP(t.Context(), first.User)
	if err != nil {
		t.Fatalf("BeginTOTP: %v", err)
	}
	code, err := totp.GenerateCode(key.Secret(), time.Now())
	if err != nil {
		t.Fatalf("GenerateCode: %v", err)
	}
	codes, err = db.ConfirmTOTP(t.Context(), u.Actor(testIP), first.Token, key.Secret(), code)
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	return login(t, db, u.Email, goodPassword), key.Secret(), codes
}

// nextCode is the code of the next time step: enrolment spent the current
// one, and a used step is refused as a replay. It is within the accepted
// clock skew.
func nextCode(t *testing.T, secret string) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatalf("GenerateCode: %v", err)
	}
	return code
}

func mfaPassed(t *testing.T, db *models.DB, token string) bool {
	t.Helper()
	s, _, err := db.LoadSession(t.Context(), token, testPolicy)
	if err != nil {
		t.Fatalf("LoadSession: %v", err)
	}
	return s.MFAPassed
}

func TestConfirmTOTPEnablesTheFactorAndPassesTheSession(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	u := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", goodPassword)
	res := login(t, db, u.Email, goodPassword)
	key, err := db.BeginTOTP(t.Context(), res.User)
	if err != nil {
		t.Fatalf("BeginTOTP: %v", err)
	}
	if key.Secret() == "" || key.Issuer() != accounts.TOTPIssuer || key.AccountName() != u.Email {
		t.Fatalf("BeginTOTP key = %s, want a secret issued by %q for %s", key.URL(), accounts.TOTPIssuer, u.Email)
	}
	code, err := totp.GenerateCode(key.Secret(), time.Now())
	if err != nil {
		t.Fatalf("GenerateCode: %v", err)
	}

	codes, err := db.ConfirmTOTP(t.Context(), u.Actor(testIP), res.Token, key.Secret(), code)
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}

	if len(codes) != accounts.RecoveryCodeCount {
		t.Errorf("ConfirmTOTP gave %d recovery codes, want %d", len(codes), accounts.RecoveryCodeCount)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if c == "" || seen[c] {
			t.Errorf("recovery codes %v are not distinct and non-empty", codes)
			break
		}
		seen[c] = true
	}
	if left, err := db.RecoveryCodesLeft(t.Context(), u.ID); err != nil || left != accounts.RecoveryCodeCount {
		t.Errorf("RecoveryCodesLeft = %d, %v; want %d", left, err, accounts.RecoveryCodeCount)
	}
	if !loadUser(t, db, u.ID).HasTOTP() {
		t.Errorf("the user has no TOTP after ConfirmTOTP")
	}
	if !mfaPassed(t, db, res.Token) {
		t.Errorf("the session has not passed its second factor after ConfirmTOTP")
	}
}

func TestConfirmTOTPRefusesAWrongCode(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	u := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", goodPassword)
	res := login(t, db, u.Email, goodPassword)
	key, err := db.BeginTOTP(t.Context(), res.User)
	if err != nil {
		t.Fatalf("BeginTOTP: %v", err)
	}

	codes, err := db.ConfirmTOTP(t.Context(), u.Actor(testIP), res.Token, key.Secret(), "12345x")

	wantInvalid(t, err, "code")
	if codes != nil || loadUser(t, db, u.ID).HasTOTP() || mfaPassed(t, db, res.Token) {
		t.Errorf("a wrong code enabled TOTP or passed the session")
	}
}

func TestBeginTOTPKeepsThePendingKeyUntilConfirmed(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	u := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", "")
	first, err := db.BeginTOTP(t.Context(), u)
	if err != nil {
		t.Fatalf("first BeginTOTP: %v", err)
	}

	again, err := db.BeginTOTP(t.Context(), loadUser(t, db, u.ID))
	if err != nil {
		t.Fatalf("second BeginTOTP: %v", err)
	}

	if again.Secret() != first.Secret() {
		t.Errorf("BeginTOTP before confirmation changed the secret")
	}
}

func TestVerifySecondFactorAcceptsAValidTOTPCode(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	res, secret, _ := enrolled(t, db)
	if !res.NeedsMFA || mfaPassed(t, db, res.Token) {
		t.Fatalf("a new login of an enrolled user does not wait for the second factor")
	}
	code := nextCode(t, secret)

	if err := db.VerifySecondFactor(t.Context(), res.User.Actor(testIP), res.Token, res.User, code); err != nil {
		t.Fatalf("VerifySecondFactor with a valid code: %v", err)
	}

	if !mfaPassed(t, db, res.Token) {
		t.Errorf("the session has not passed its second factor")
	}
	if d := detailsOf(t, onlyAuditEvent(t, db, "user.mfa_pass")); d["method"] != "totp" {
		t.Errorf("user.mfa_pass method = %v, want totp", d["method"])
	}
}

func TestTOTPCodeWorksOnlyOnce(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	res, secret, _ := enrolled(t, db)
	code := nextCode(t, secret)
	if err := db.VerifySecondFactor(t.Context(), res.User.Actor(testIP), res.Token, res.User, code); err != nil {
		t.Fatalf("first use of the code: %v", err)
	}

	again := login(t, db, res.User.Email, goodPassword)
	err := db.VerifySecondFactor(t.Context(), again.User.Actor(testIP), again.Token, again.User, code)

	if !errors.Is(err, accounts.ErrBadCode) {
		t.Errorf("replaying a used TOTP code = %v, want ErrBadCode", err)
	}
	if mfaPassed(t, db, again.Token) {
		t.Errorf("a replayed TOTP code passed the session")
	}
}

func TestRecoveryCodeWorksOnlyOnce(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	res, _, codes := enrolled(t, db)
	actor := res.User.Actor(testIP)

	if err := db.VerifySecondFactor(t.Context(), actor, res.Token, res.User, codes[3]); err != nil {
		t.Fatalf("first use of a recovery code: %v", err)
	}
	if !mfaPassed(t, db, res.Token) {
		t.Fatalf("the recovery code did not pass the session")
	}

	again := login(t, db, res.User.Email, goodPassword)
	err := db.VerifySecondFactor(t.Context(), actor, again.Token, again.User, codes[3])

	if !errors.Is(err, accounts.ErrBadCode) {
		t.Errorf("second use of the recovery code = %v, want ErrBadCode", err)
	}
	if mfaPassed(t, db, again.Token) {
		t.Errorf("a spent recovery code passed the session")
	}
	if left, _ := db.RecoveryCodesLeft(t.Context(), res.User.ID); left != accounts.RecoveryCodeCount-1 {
		t.Errorf("RecoveryCodesLeft = %d, want %d", left, accounts.RecoveryCodeCount-1)
	}
}

func TestRecoveryCodeIsAcceptedWithoutHyphensInUpperCase(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	res, _, codes := enrolled(t, db)
	typed := strings.ToUpper(strings.ReplaceAll(codes[0], "-", ""))

	if err := db.VerifySecondFactor(t.Context(), res.User.Actor(testIP), res.Token, res.User, typed); err != nil {
		t.Errorf("VerifySecondFactor(%q) for code %q = %v, want accepted", typed, codes[0], err)
	}
}

func TestTooManyWrongCodesEndTheSession(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	res, _, _ := enrolled(t, db)
	actor := res.User.Actor(testIP)
	for i := 1; i < accounts.MaxMFAFailures; i++ {
		if err := db.VerifySecondFactor(t.Context(), actor, res.Token, res.User, "12345x"); !errors.Is(err, accounts.ErrBadCode) {
			t.Fatalf("wrong code %d = %v, want ErrBadCode", i, err)
		}
	}

	err := db.VerifySecondFactor(t.Context(), actor, res.Token, res.User, "12345x")

	if !errors.Is(err, accounts.ErrTooManyCodes) {
		t.Fatalf("wrong code %d = %v, want ErrTooManyCodes", accounts.MaxMFAFailures, err)
	}
	if _, _, err := db.LoadSession(t.Context(), res.Token, testPolicy); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("LoadSession after too many wrong codes = %v, want ErrNoSession", err)
	}
	if n := len(auditEvents(t, db, "user.mfa_failed")); n != accounts.MaxMFAFailures {
		t.Errorf("user.mfa_failed events = %d, want %d", n, accounts.MaxMFAFailures)
	}
}
