package auditchain

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"time"
)

// Checkpoint is a signed statement that the chain's head was entry Seq with
// hash Hash at time At. Kept outside the database (a file, write-once
// storage), it exposes what the chain alone cannot: a rewrite of the whole
// table with every hash recomputed, and a rollback to an older copy.
type Checkpoint struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	At   string `json:"at"` // RFC 3339, UTC, to the second
	// KeyID names the signing key: the first 16 hex digits of the SHA-256
	// of its 32-byte public key; PublicKey is that key in base64.
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"`
	Signature string `json:"signature"` // ed25519 over SignedBytes, base64
}

// SignedBytes are the bytes the signature covers:
// {"seq":N,"hash":"…","at":"…"} with no spaces, strings quoted as the chain's
// canonical encoding quotes them.
func (c *Checkpoint) SignedBytes() []byte {
	b := append([]byte(`{"seq":`), strconv.FormatInt(c.Seq, 10)...)
	b = AppendJSONString(append(b, `,"hash":`...), c.Hash)
	b = AppendJSONString(append(b, `,"at":`...), c.At)
	return append(b, '}')
}

// Sign makes the checkpoint of head (seq, hash) at time at.
func Sign(key ed25519.PrivateKey, seq int64, hash string, at time.Time) Checkpoint {
	pub := key.Public().(ed25519.PublicKey)
	c := Checkpoint{Seq: seq, Hash: hash, At: at.UTC().Format(time.RFC3339), KeyID: KeyID(pub),
		PublicKey: base64.StdEncoding.EncodeToString(pub)}
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.SignedBytes()))
	return c
}

// KeyID is the short name of a public key used in checkpoints.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// CheckSignature verifies c's signature with the trusted key it names. A
// checkpoint signed by any other key, or whose signature does not cover
// its seq, hash and time, is refused.
func (c *Checkpoint) CheckSignature(trusted []ed25519.PublicKey) error {
	for _, pub := range trusted {
		if KeyID(pub) != c.KeyID {
			continue
		}
		if c.PublicKey != base64.StdEncoding.EncodeToString(pub) {
			return fmt.Errorf("its public_key is not key %s's", c.KeyID)
		}
		sig, err := base64.StdEncoding.DecodeString(c.Signature)
		if err != nil || !ed25519.Verify(pub, c.SignedBytes(), sig) {
			return errors.New("its signature does not match its seq, hash and time (forged or edited)")
		}
		return nil
	}
	return fmt.Errorf("it is signed by key %s, which is not a trusted key", c.KeyID)
}

// ReadCheckpoints reads checkpoint JSON lines; blank lines are skipped.
func ReadCheckpoints(r io.Reader) ([]Checkpoint, error) {
	var cs []Checkpoint
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var c Checkpoint
		if err := decodeLine(line, &c); err != nil {
			return nil, fmt.Errorf("line %d is not a checkpoint: %w", n, err)
		}
		cs = append(cs, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	if len(cs) == 0 {
		return nil, errors.New("no checkpoint in the file")
	}
	return cs, nil
}

// The key file is PEM: one "PRIVATE KEY" block (PKCS #8, as
// `openssl genpkey -algorithm ed25519` writes) that signs, and any number
// of "PUBLIC KEY" blocks (PKIX, as `openssl pkey -pubout` writes) of
// retired keys whose checkpoints are still trusted.

// LoadOrCreateKey reads the signing key at path, creating the file with a
// new key (mode 0600) when it does not exist. A key file others can read
// is refused: whoever reads it can sign checkpoints.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			f.Close()
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err == nil {
			err = pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
		}
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("write new audit key %s: %w", path, err)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create audit key %s: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read audit key: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("audit key %s is readable by others (mode %04o): chmod 600 it", path, info.Mode().Perm())
	}
	keys, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	if keys.private == nil {
		return nil, fmt.Errorf("audit key %s holds no PRIVATE KEY block to sign with", path)
	}
	return keys.private, nil
}

// LoadTrustedKeys reads the public keys a verifier trusts from the key file
// at path: the signing key's public half and every retired public key.
func LoadTrustedKeys(path string) ([]ed25519.PublicKey, error) {
	keys, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	if len(keys.public) == 0 {
		return nil, fmt.Errorf("audit key %s holds no ed25519 key", path)
	}
	return keys.public, nil
}

type keyFile struct {
	private ed25519.PrivateKey
	public  []ed25519.PublicKey
}

func readKeyFile(path string) (keyFile, error) {
	var k keyFile
	data, err := os.ReadFile(path)
	if err != nil {
		return k, fmt.Errorf("read audit key: %w", err)
	}
	for n := 1; ; n++ {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "PRIVATE KEY":
			key, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			priv, ok := key.(ed25519.PrivateKey)
			if err != nil || !ok {
				return k, fmt.Errorf("audit key %s: block %d is not an ed25519 private key", path, n)
			}
			if k.private != nil {
				return k, fmt.Errorf("audit key %s holds two private keys: keep one, and the public half of the other", path)
			}
			k.private = priv
			k.public = append(k.public, priv.Public().(ed25519.PublicKey))
		case "PUBLIC KEY":
			key, err := x509.ParsePKIXPublicKey(b.Bytes)
			pub, ok := key.(ed25519.PublicKey)
			if err != nil || !ok {
				return k, fmt.Errorf("audit key %s: block %d is not an ed25519 public key", path, n)
			}
			k.public = append(k.public, pub)
		default:
			return k, fmt.Errorf("audit key %s: block %d is a %q, not a PRIVATE KEY or PUBLIC KEY", path, n, b.Type)
		}
	}
	return k, nil
}
