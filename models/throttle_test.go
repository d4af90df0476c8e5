package models_test

import (
	accounts "github.com/sendara/console/models/accounts"
	outbox "github.com/sendara/console/models/outbox"

	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestThrottleDelayStartsShortAndGrowsToItsCapThenItsCeiling(t *testing.T) {
	t.Parallel()
	r := store.AccountThrottle
	cases := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0},
		{r.Free - 1, 0},
		{r.Free, 15 * time.Second},
		{r.Free + 1, 30 * time.Second},
		{r.Free + 2, time.Minute},
		{r.Free + 5, 8 * time.Minute},
		{r.Free + 6, 15 * time.Minute},
		{r.Free + 40, 15 * time.Minute},
		{r.Ceiling - 1, 15 * time.Minute},
		{r.Ceiling, 24 * time.Hour},
		{r.Ceiling + 7, 24 * time.Hour},
	}
	for _, tc := range cases {
		if got := r.Delay(tc.failures); got != tc.want {
			t.Errorf("AccountThrottle.Delay(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
	if store.AccountThrottle.Ceiling > 100 || store.SecondFactorThrottle.Ceiling > 100 {
		t.Errorf("ceilings %d and %d: NIST SP 800-63B allows at most 100 consecutive failures",
			store.AccountThrottle.Ceiling, store.SecondFactorThrottle.Ceiling)
	}
}

// passTime moves every throttle's next allowed time into the past, as if
// the wait had gone by.
func passTime(t *testing.T, db *models.DB) {
	t.Helper()
	if err := db.Gorm.Exec("UPDATE auth_throttle SET next_at = ?", store.Now().Add(-time.Second)).Error; err != nil {
		t.Fatal(err)
	}
}

func failLogin(t *testing.T, db *models.DB, email, ip string) {
	t.Helper()
	if _, err := db.Login(t.Context(), email, "a wrong passphrase guess", ip, "test", testPolicy); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Fatalf("Login with a wrong password = %v, want ErrBadCredentials", err)
	}
}

func TestWrongPasswordsDelayTheOwnerBrieflyInsteadOfLockingThem(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	u := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", goodPassword)
	for range store.AccountThrottle.Free + 2 {
		failLogin(t, db, u.Email, "203.0.113.66")
		passTime(t, db)
	}

	// The attacker's last failure made the next attempt wait; once that
	// short wait is over, the owner's right password signs in.
	failLogin(t, db, u.Email, "203.0.113.66")
	var rl *store.RateLimitError
	if _, err := db.Login(t.Context(), u.Email, goodPassword, testIP, "test", testPolicy); !errors.As(err, &rl) {
		t.Fatalf("right password right after a failure = %v, want a RateLimitError", err)
	} else if rl.RetryAfter > 15*time.Minute {
		t.Errorf("RetryAfter %v, want at most the 15 minute cap", rl.RetryAfter)
	}
	passTime(t, db)
	if _, err := db.Login(t.Context(), u.Email, goodPassword, testIP, "test", testPolicy); err != nil {
		t.Fatalf("right password after the wait = %v, want a session", err)
	}
	// The success forgave the account's failures: one slip costs nothing.
	failLogin(t, db, u.Email, testIP)
	if _, err := db.Login(t.Context(), u.Email, goodPassword, testIP, "test", testPolicy); err != nil {
		t.Errorf("right password after one new slip = %v, want a session", err)
	}
}

func TestRefusedAttemptsDoNotExtendTheWait(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	u := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", goodPassword)
	for range store.AccountThrottle.Free {
		failLogin(t, db, u.Email, testIP)
	}
	var first, later *store.RateLimitError
	_, err := db.Login(t.Context(), u.Email, "another guess entirely", testIP, "test", testPolicy)
	if !errors.As(err, &first) {
		t.Fatalf("attempt during the wait = %v, want a RateLimitError", err)
	}
	for range 10 {
		_, err = db.Login(t.Context(), u.Email, "another guess entirely", testIP, "test", testPolicy)
	}
	if !errors.As(err, &later) || later.RetryAfter > first.RetryAfter {
		t.Errorf("after ten refused attempts: %v (first wait %v), want a wait no longer than the first", err, first.RetryAfter)
	}
}

func TestTheAccountCeilingPausesPasswordSignInForADayAndMailsTheOwner(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	u := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", goodPassword)
	failLogin(t, db, u.Email, testIP)
	// Ninety-eight failures spread over the past day, as a patient
	// attacker rotating addresses would make them.
	if err := db.Gorm.Exec("UPDATE auth_throttle SET failures = ?, next_at = ? WHERE key = ?",
		store.AccountThrottle.Ceiling-1, store.Now().Add(-time.Second), "account:"+u.Email).Error; err != nil {
		t.Fatal(err)
	}
	failLogin(t, db, u.Email, "198.51.100.9")

	var rl *store.RateLimitError
	if _, err := db.Login(t.Context(), u.Email, goodPassword, testIP, "test", testPolicy); !errors.As(err, &rl) || rl.RetryAfter < 23*time.Hour {
		t.Fatalf("right password at the ceiling = %v, want a RateLimitError of about a day", err)
	}
	mails := outboxTo(t, db, u.Email)
	if len(mails) != 1 || !strings.Contains(mails[0].BodyText, "paused for 24h") || !strings.Contains(mails[0].BodyText, "198.51.100.9") {
		t.Errorf("mail to the owner at the ceiling: %+v, want one naming the pause and the last address", mails)
	}
}

func outboxTo(t *testing.T, db *models.DB, to string) []outbox.OutboxMail {
	t.Helper()
	var ms []outbox.OutboxMail
	if err := db.Gorm.Where("to_addr = ?", to).Order("id").Find(&ms).Error; err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestTheOwnerIsMailedOnceWhenFailuresReachTheThrottle(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	u := newUser(t, db, "officer@sendara.test", accounts.RolePrivacyOfficer, "", goodPassword)
	for i := range store.AccountThrottle.Free + 3 {
		failLogin(t, db, u.Email, fmt.Sprintf("203.0.113.%d", i+1))
		passTime(t, db)
	}
	for i := range store.AccountThrottle.Free {
		failLogin(t, db, "nobody@sendara.test", fmt.Sprintf("203.0.113.%d", i+50))
		passTime(t, db)
	}

	mails := outboxTo(t, db, u.Email)
	if len(mails) != 1 {
		t.Fatalf("mails to the owner after %d failures: %d, want 1", store.AccountThrottle.Free+3, len(mails))
	}
	if m := mails[0]; m.Status != outbox.MailQueued || !strings.Contains(m.BodyText, fmt.Sprintf("There were %d sign-in attempts", store.AccountThrottle.Free)) ||
		!strings.Contains(m.BodyText, "203.0.113.5") {
		t.Errorf("mail %q: %q, want the count and the last address", m.Subject, m.BodyText)
	}
	if n := len(outboxTo(t, db, "nobody@sendara.test")); n != 0 {
		t.Errorf("mails to an address with no account: %d, want 0", n)
	}
}

func TestSecondFactorGuessesAreLimitedPerAccountNotPerSession(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	res, secret, _ := enrolled(t, db)
	u := res.User
	guess := func(token string) error {
		return db.VerifySecondFactor(t.Context(), u.Actor(testIP), token, u, "000000")
	}
	first := login(t, db, u.Email, goodPassword)
	for i := 1; i <= accounts.MaxMFAFailures; i++ {
		if err := guess(first.Token); i < accounts.MaxMFAFailures && !errors.Is(err, accounts.ErrBadCode) {
			t.Fatalf("wrong code %d = %v, want ErrBadCode", i, err)
		}
	}

	// A fresh half-open session (the password again) buys no new guesses,
	// not even for the right code, until the account's wait is over.
	second := login(t, db, u.Email, goodPassword)
	right, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	var rl *store.RateLimitError
	if err := db.VerifySecondFactor(t.Context(), u.Actor(testIP), second.Token, u, right); !errors.As(err, &rl) || rl.Scope != "second_factor" {
		t.Fatalf("a code in a new session after %d wrong ones = %v, want a RateLimitError on the second factor", accounts.MaxMFAFailures, err)
	}
	if mails := outboxTo(t, db, u.Email); len(mails) != 1 || !strings.Contains(mails[0].BodyText, "knew your password") {
		t.Errorf("mails to the owner: %+v, want one saying the password is known", mails)
	}
	passTime(t, db)
	if err := db.VerifySecondFactor(t.Context(), u.Actor(testIP), second.Token, u, right); err != nil {
		t.Errorf("the right code after the wait = %v, want accepted", err)
	}
}
