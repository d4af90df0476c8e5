// Package errs holds the errors every model returns and handlers map to
// HTTP answers: a validation error naming its field, a conflict, and
// ErrNotFound (also returned for another tenant's object).
package errs

import (
	"errors"
	"fmt"
)

// ValidationError is bad input, named by the field it concerns. Handlers
// show Message next to the field and answer 4xx; nothing has been written.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

// Invalid builds a ValidationError.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ConflictError is a well-formed request that clashes with existing data
// (a slug or email already taken).
type ConflictError struct {
	Field   string
	Message string
}

func (e *ConflictError) Error() string { return e.Message }

// AsValidation reports whether err is a ValidationError and returns it.
func AsValidation(err error) (*ValidationError, bool) {
	var v *ValidationError
	ok := errors.As(err, &v)
	return v, ok
}

// AsConflict reports whether err is a ConflictError and returns it.
func AsConflict(err error) (*ConflictError, bool) {
	var c *ConflictError
	ok := errors.As(err, &c)
	return c, ok
}
