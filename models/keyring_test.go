package models_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func rawColumn(t *testing.T, db *models.DB, query string, args ...any) string {
	t.Helper()
	var v string
	if err := db.Gorm.Raw(query, args...).Scan(&v).Error; err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTOTPAndServerSecretsAreSealedInTheDatabase(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	res, secret, _ := enrolled(t, db)
	server, err := db.ServerSecret(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	stored := map[string]string{
		"users.totp_secret":      rawColumn(t, db, "SELECT totp_secret FROM users WHERE id = ?", res.User.ID),
		"settings.server_secret": rawColumn(t, db, "SELECT value FROM settings WHERE key = 'server_secret'"),
	}
	clear := map[string]string{"users.totp_secret": secret, "settings.server_secret": hex.EncodeToString(server)}
	for col, v := range stored {
		if !strings.HasPrefix(v, "sealed:v1:") || strings.Contains(v, clear[col]) {
			t.Errorf("%s is stored as %q, want it sealed", col, v)
		}
	}
	if err := db.VerifySecondFactor(t.Context(), res.User.Actor(testIP), res.Token, res.User, nextCode(t, secret)); err != nil {
		t.Errorf("a code of the sealed secret = %v, want accepted", err)
	}
}

func TestSealSecretsSealsClearValuesFromBeforeAndReSealsAfterARotation(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	res, secret, _ := enrolled(t, db)
	server, err := db.ServerSecret(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// As a database migrated before sealing holds them: in clear.
	if err := db.Gorm.Exec("UPDATE users SET totp_secret = ? WHERE id = ?", secret, res.User.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Exec("UPDATE settings SET value = ? WHERE key = 'server_secret'", hex.EncodeToString(server)).Error; err != nil {
		t.Fatal(err)
	}
	oldKey, newKey := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(oldKey)
	_, _ = rand.Read(newKey)
	old, _ := store.NewKeyring(oldKey)
	db.UseKeyring(old)
	if n, err := db.SealSecrets(t.Context()); err != nil || n != 2 {
		t.Fatalf("SealSecrets on clear values = %d, %v; want 2 sealed", n, err)
	}
	if n, err := db.SealSecrets(t.Context()); err != nil || n != 0 {
		t.Errorf("SealSecrets again = %d, %v; want nothing left to do", n, err)
	}

	// Rotation: a new key first, the old one kept to open what it sealed.
	rotated, _ := store.NewKeyring(newKey, oldKey)
	db.UseKeyring(rotated)
	if n, err := db.SealSecrets(t.Context()); err != nil || n != 2 {
		t.Fatalf("SealSecrets after a rotation = %d, %v; want 2 re-sealed", n, err)
	}
	onlyNew, _ := store.NewKeyring(newKey)
	db.UseKeyring(onlyNew)
	if got, err := db.ServerSecret(t.Context()); err != nil || !bytes.Equal(got, server) {
		t.Errorf("the server secret under the new key alone = %x, %v; want the same secret %x", got, err, server)
	}
	u := *res.User
	u.TOTPSecret = rawColumn(t, db, "SELECT totp_secret FROM users WHERE id = ?", res.User.ID)
	if err := db.VerifySecondFactor(t.Context(), u.Actor(testIP), res.Token, &u, nextCode(t, secret)); err != nil {
		t.Errorf("a code after the rotation = %v, want accepted", err)
	}
	if n := len(auditEvents(t, db, "secrets.seal")); n != 2 {
		t.Errorf("secrets.seal audit events = %d, want 2 (the first sealing and the rotation)", n)
	}

	other, _ := store.NewKeyring(oldKey)
	db.UseKeyring(other)
	if _, err := db.ServerSecret(t.Context()); err == nil {
		t.Errorf("the server secret opened with a key that never sealed it")
	}
}

func TestLoadKeyringCreatesAPrivateKeyFileOnceAndReadsItBack(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret.key")
	_, created, err := store.LoadKeyring(path)
	if err != nil || !created {
		t.Fatalf("LoadKeyring on a missing file = created %v, %v; want it created", created, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if _, created, err := store.LoadKeyring(path); err != nil || created {
		t.Errorf("LoadKeyring on the existing file = created %v, %v; want it read", created, err)
	}
	if err := os.WriteFile(path, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.LoadKeyring(path); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("LoadKeyring on a damaged file = %v, want an error naming the line", err)
	}
}
