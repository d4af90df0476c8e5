package handlers

import (
	"context"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/sendara/console/models"
	"github.com/sendara/console/rbac"
)

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
	return assemble(ctx, db, authz, cfg, (*Server).routes)
}

// routes is the console's route table: each area keeps its lines beside its handlers.
// Every route is either public or names the permission Casbin must grant
// (TestEveryRouteDeclaresItsAccess).
func (s *Server) routes() []route {
	return slices.Concat(s.coreRoutes(), s.AdminRoutes(), s.CasesRoutes(), s.ContactsRoutes(), s.ApiRoutes(), s.LifecycleRoutes())
}
