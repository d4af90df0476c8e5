// Package handlers is the console's HTTP layer: one thin handler per
// action, grouped by area — admin (signing in, accounts, users, keys,
// customers, webhooks, the audit log), cases (privacy requests from intake
// to report), contacts (contacts, consent, imports, replies), api (the JSON
// API) and lifecycle (registers and retention) — over the shared core in
// package web. Handlers bind and validate input, make one model call and
// render a view or redirect. This package assembles the route table.
package handlers

import (
	"context"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/sendara/console/handlers/admin"
	"github.com/sendara/console/handlers/api"
	"github.com/sendara/console/handlers/cases"
	"github.com/sendara/console/handlers/contacts"
	"github.com/sendara/console/handlers/lifecycle"
	"github.com/sendara/console/handlers/web"
	"github.com/sendara/console/models"
	"github.com/sendara/console/rbac"
)

// Config is what the HTTP layer needs from the configuration.
type Config = web.Config

// Server is the HTTP server every area shares.
type Server = web.Server

// New builds the Echo application with every route of the route table.
func New(ctx context.Context, db *models.DB, authz *rbac.Authorizer, cfg Config) (*echo.Echo, error) {
	s, err := NewServer(ctx, db, authz, cfg)
	if err != nil {
		return nil, err
	}
	return s.Handler(), nil
}

// NewServer builds the server with every route of the route table; its
// background work (writing out API usage counts every minute) lasts as long
// as ctx. Call FlushUsage once more after the HTTP server has shut down.
func NewServer(ctx context.Context, db *models.DB, authz *rbac.Authorizer, cfg Config) (*Server, error) {
	return web.Assemble(ctx, db, authz, cfg, routes)
}

// routes is the console's route table. Each area keeps its lines beside
// its handlers; every route is either public or names the permission
// Casbin must grant (TestEveryRouteDeclaresItsAccess).
func routes(s *Server) []web.Route {
	return slices.Concat(
		s.CoreRoutes(),
		(&admin.Handlers{Server: s}).Routes(),
		(&cases.Handlers{Server: s}).Routes(),
		(&contacts.Handlers{Server: s}).Routes(),
		(&api.Handlers{Server: s}).Routes(),
		(&lifecycle.Handlers{Server: s}).Routes(),
	)
}
