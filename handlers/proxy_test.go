package handlers_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sendara/console/handlers"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestClientAddressComesFromForwardedForOnlyBehindTrustedProxies(t *testing.T) {
	t.Parallel()
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	tests := []struct {
		name    string
		proxies []*net.IPNet
		wantIP  string
	}{
		{"without trusted proxies the header is ignored", nil, "127.0.0.1"},
		{"behind a trusted proxy the forwarded client is used", []*net.IPNet{loopback}, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestAppWith(t, handlers.Config{TrustedProxies: tt.proxies})
			c := app.client()
			c.get("/login")
			form := url.Values{"email": {"nobody@example.com"}, "password": {"wrong password here"}, "_csrf": {c.csrf}}
			req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			if p := c.do(req); p.Status != http.StatusUnauthorized {
				t.Fatalf("status %d", p.Status)
			}
			events, err := app.db.ListAudit(context.Background(), modeltest.Staff, store.AuditFilter{Action: "user.login_failed"})
			if err != nil || len(events) != 1 {
				t.Fatalf("events %v, err %v", events, err)
			}
			if events[0].IP != tt.wantIP {
				t.Errorf("audited address %q, want %q", events[0].IP, tt.wantIP)
			}
		})
	}
}
