// Package views holds what every page shares: the layout and navigation,
// the page's Request (CSRF token, who is signed in, the flash), form errors,
// time formats and the labels that say each stored code in words. The
// pages themselves are templ components with typed props in the area
// packages beside it (adminpages, casepages, contactpages, lifecyclepages),
// one per area of package handlers. Views format and lay out; they make no
// decisions about data.
package views

import (
	"context"
	"encoding/json"
	"time"
)

// Request is what every page needs besides its own props: the CSRF token,
// who is signed in, the navigation the user may follow, a flash message.
type Request struct {
	CSRF      string
	UserName  string
	UserEmail string
	RoleLabel string
	Tenant    string // the customer user's company name; empty for staff
	Nav       []NavLink
	Path      string
	Flash     string
}

// NavLink is one entry of the main navigation.
type NavLink struct {
	Label string
	Href  string
}

type requestKey struct{}

// WithRequest attaches r to ctx for the components rendered with it.
func WithRequest(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// Req returns the page's Request (never nil).
func Req(ctx context.Context) *Request {
	if r, ok := ctx.Value(requestKey{}).(*Request); ok {
		return r
	}
	return &Request{}
}

func csrfHeaders(ctx context.Context) string {
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": Req(ctx).CSRF})
	return string(b)
}

// Errors maps a form field to the message shown beside it; "" is a message
// for the whole form.
type Errors map[string]string

// FormatTime shows a UTC time in the business time zone, to the minute.
func FormatTime(t *time.Time, loc *time.Location) string {
	if t == nil || t.IsZero() {
		return "—"
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

func isActive(ctx context.Context, href string) bool {
	p := Req(ctx).Path
	if href == "/" {
		return p == "/"
	}
	return p == href || len(p) > len(href) && p[:len(href)] == href && p[len(href)] == '/'
}

func statusTitle(status int) string {
	switch status {
	case 400, 422:
		return "That did not work"
	case 403:
		return "Not allowed"
	case 404:
		return "Not found"
	case 409:
		return "Conflict"
	case 429:
		return "Too many attempts"
	}
	return "Something went wrong"
}

func JoinComma(vs []string) string {
	out := ""
	for i, v := range vs {
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out
}

// FormatSecond shows an audit time to the second, in the business zone.
func FormatSecond(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}
