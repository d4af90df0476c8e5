package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strings"

	"github.com/google/uuid"
	calendar "github.com/sendara/console/models/calendar"
	errs "github.com/sendara/console/models/errs"
	"gorm.io/gorm"
)

// The small helpers every domain package uses: tokens and their hashes,
// ids, text trimming, nil-able strings, batching.

// Chunk splits s into slices of at most n (SQL parameter limits).
func Chunk[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

// UniqueViolation turns the database's duplicate-key error into a
// ConflictError on field; other errors pass through.
func UniqueViolation(err error, field, message string) error {
	// PostgreSQL's error is translated by gorm; the pure-Go SQLite driver has
	// no translator, so its message is recognised here.
	if errors.Is(err, gorm.ErrDuplicatedKey) || (err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")) {
		return &errs.ConflictError{Field: field, Message: message}
	}
	return err
}

func Dedupe(vs []string) []string {
	slices.Sort(vs)
	return slices.Compact(vs)
}

func NullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func StrOrEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// DaysBetween counts the calendar days from one date to a later one.
func DaysBetween(from, to calendar.Date) int {
	return int(to.Midnight().Sub(from.Midnight()).Hours() / 24)
}

func RandomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func HashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func ValidID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil
}
