package store

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Keyring holds the keys that seal secrets kept in the database (TOTP
// secrets, the server secret) so that a copy of the database alone does
// not reveal them. The keys live outside the database, in the file
// CONSOLE_SECRET_KEY names: one base64 key of 32 bytes per line, the first
// one current. Older lines are kept only to open values sealed before a
// rotation; SealSecrets re-seals those under the current key.
type Keyring struct {
	Current string // id of the first key
	keys    map[string]cipher.AEAD
}

// SealedPrefix starts every sealed value: "sealed:v1:<key id>:<base64>".
const SealedPrefix = "sealed:v1:"

// ErrNoKeyring means a secret had to be sealed or opened on a DB without a
// keyring (UseKeyring was not called).
var ErrNoKeyring = errors.New("no secret key: the console needs CONSOLE_SECRET_KEY to seal and open secrets")

// NewKeyring builds a keyring from raw 32-byte keys, the first current.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("a keyring needs at least one key")
	}
	k := &Keyring{keys: map[string]cipher.AEAD{}}
	for i, raw := range keys {
		if len(raw) != 32 {
			return nil, fmt.Errorf("key %d is %d bytes, want 32", i+1, len(raw))
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(raw)
		id := hex.EncodeToString(sum[:4])
		if i == 0 {
			k.Current = id
		}
		k.keys[id] = aead
	}
	return k, nil
}

// LoadKeyring reads the key file at path, creating it (mode 0600, one new
// key) when it does not exist. created reports that it did.
func LoadKeyring(path string) (k *Keyring, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		line := base64.StdEncoding.EncodeToString(raw) + "\n"
		f, ferr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(ferr, os.ErrExist) { // another process created it first
			return LoadKeyring(path)
		}
		if ferr != nil {
			return nil, false, fmt.Errorf("create secret key file %s: %w", path, ferr)
		}
		if _, werr := f.WriteString(line); werr != nil {
			f.Close()
			return nil, false, fmt.Errorf("write secret key file %s: %w", path, werr)
		}
		if cerr := f.Close(); cerr != nil {
			return nil, false, fmt.Errorf("write secret key file %s: %w", path, cerr)
		}
		k, err := NewKeyring(raw)
		return k, true, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("read secret key file %s: %w", path, err)
	}
	var keys [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(line)
		if err != nil || len(raw) != 32 {
			return nil, false, fmt.Errorf("secret key file %s, line %d: want a base64 key of 32 bytes", path, n)
		}
		keys = append(keys, raw)
	}
	if len(keys) == 0 {
		return nil, false, fmt.Errorf("secret key file %s holds no key", path)
	}
	k, err = NewKeyring(keys...)
	return k, false, err
}

// Seal encrypts plain under the current key. label binds the value to its
// place (a column and row), so a sealed value copied elsewhere does not open.
func (k *Keyring) Seal(label, plain string) (string, error) {
	if k == nil {
		return "", ErrNoKeyring
	}
	aead := k.keys[k.Current]
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := aead.Seal(nonce, nonce, []byte(plain), []byte(label))
	return SealedPrefix + k.Current + ":" + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a sealed value. A value that is not sealed is returned as
// it is: it was written before sealing began, and SealSecrets seals it.
func (k *Keyring) Open(label, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, SealedPrefix)
	if !ok {
		return stored, nil
	}
	if k == nil {
		return "", ErrNoKeyring
	}
	id, data, ok := strings.Cut(rest, ":")
	aead := k.keys[id]
	if !ok || aead == nil {
		return "", fmt.Errorf("%s is sealed with key %s, which CONSOLE_SECRET_KEY does not hold", label, id)
	}
	raw, err := base64.RawStdEncoding.DecodeString(data)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", fmt.Errorf("%s: sealed value is damaged", label)
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(label))
	if err != nil {
		return "", fmt.Errorf("%s: sealed value does not open with key %s (damaged, or copied from elsewhere)", label, id)
	}
	return string(plain), nil
}

// SealedWithCurrent tells values SealSecrets may leave alone.
func (k *Keyring) SealedWithCurrent(stored string) bool {
	return strings.HasPrefix(stored, SealedPrefix+k.Current+":")
}

// UseKeyring gives the DB the keys that seal its secrets. Call it before
// anything reads or writes a TOTP secret or the server secret.
func (db *DB) UseKeyring(k *Keyring) { db.Keys = k }

func TotpLabel(userID string) string { return "users.totp_secret:" + userID }

const ServerSecretLabel = "settings.server_secret"
