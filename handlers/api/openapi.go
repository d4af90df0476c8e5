package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDocument describes the JSON API; TestOpenAPIDocumentMatchesTheAPI
// keeps it true to the route table and to what the handlers answer.
//
//go:embed openapi.json
var openAPIDocument []byte

func (s *Handlers) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDocument)
}
