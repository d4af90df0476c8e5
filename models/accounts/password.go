package accounts

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	errs "github.com/sendara/console/models/errs"
	"github.com/trustelem/zxcvbn"
)

// MinPasswordLength follows NIST SP 800-63B: at least 12 characters and no
// composition rules.
const MinPasswordLength = 12

// CheckPassword applies the password policy: length, and refusal of common
// and breached passwords. zxcvbn's dictionaries are built from leaked
// password lists, so a guessable password (score below 3) is one such list
// would crack; the email's parts count as known words.
func CheckPassword(password, email string) error {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return errs.Invalid("password", "must be at least %d characters (it has %d)", MinPasswordLength, n)
	}
	if n > 256 {
		return errs.Invalid("password", "must be at most 256 characters")
	}
	lowerPW, lowerEmail := strings.ToLower(password), strings.ToLower(strings.TrimSpace(email))
	local, _, _ := strings.Cut(lowerEmail, "@")
	if lowerEmail != "" && (strings.Contains(lowerPW, lowerEmail) || (len(local) >= 4 && strings.Contains(lowerPW, local))) {
		return errs.Invalid("password", "must not contain your email address")
	}
	user := append(strings.FieldsFunc(lowerEmail, func(r rune) bool { return r == '@' || r == '.' }), lowerEmail, local)
	if zxcvbn.PasswordStrength(password, user).Score < 3 {
		return errs.Invalid("password", "is too common or too easy to guess: it appears in breached-password lists or follows a known pattern; use a longer passphrase")
	}
	return nil
}

// argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes) with
// headroom; about 50 ms on one core of the reference machine.
var argonParams = &argon2id.Params{Memory: 64 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// UseCheapPasswordHashing makes new password hashes cost 64 KiB and one
// pass instead of 64 MiB and two, so that a test suite signing in hundreds
// of times stays fast. Hashes keep their parameters in their PHC string, so
// verification is unchanged. It panics outside a test binary: a console that
// hashed cheaply would be a console whose passwords crack cheaply.
func UseCheapPasswordHashing() {
	if !testing.Testing() {
		panic("models.UseCheapPasswordHashing called outside a test binary")
	}
	argonParams = &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

// HashPassword returns the argon2id hash of password in PHC string form.
func HashPassword(password string) (string, error) {
	h, err := argon2id.CreateHash(password, argonParams)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// dummyHash is compared against when the account does not exist, so a
// wrong email takes as long as a wrong password. It is made on first use:
// hashing costs 64 MiB and a third of a second that commands which never
// check a password (imports, seeding) should not pay.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("no account has this password 7f3c")
	return h
})

// passwordMatches compares in constant work: an account without a password
// (an invitation not yet accepted) or without a user still costs a hash, and
// never matches.
func passwordMatches(hash, password string) bool {
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(password, dummyHash())
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	return err == nil && ok
}
