package store

import (
	"errors"
	"strings"

	errs "github.com/sendara/console/models/errs"
	"gorm.io/gorm"
)

// uniqueViolation turns the database's duplicate-key error into a
// ConflictError on field; other errors pass through.
func UniqueViolation(err error, field, message string) error {
	// PostgreSQL's error is translated by gorm; the pure-Go SQLite driver has
	// no translator, so its message is recognised here.
	if errors.Is(err, gorm.ErrDuplicatedKey) || (err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")) {
		return &errs.ConflictError{Field: field, Message: message}
	}
	return err
}
