// Package echoapp mounts the attachment handler on an echo server.
package echoapp

import (
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/examples/frameworks/appauth"
)

// NewRouter returns the application's echo instance with the attachment API
// under /files, behind the application's authentication middleware.
func NewRouter(svc *attachment.Service, tokens appauth.Tokens) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.Use(middleware.Recover())

	// Echo keeps the full path in the request: tell the handler its prefix.
	h := echo.WrapHandler(attachment.NewHandler(svc, &attachment.HandlerOptions{
		Prefix: "/files",
		Access: appauth.Access(),
	}))
	g := e.Group("/files", authenticate(tokens))
	g.Any("", h)   // /files: upload and list
	g.Any("/*", h) // everything under it

	// Timeouts: e.Start serves with e.Server. No ReadTimeout or
	// WriteTimeout: they would cut off large uploads and downloads.
	e.Server.ReadHeaderTimeout = 10 * time.Second
	e.Server.IdleTimeout = 2 * time.Minute
	e.Server.MaxHeaderBytes = 64 << 10
	return e
}

// authenticate is the application's middleware. The user goes into the
// request's context, where the access hook finds it: c.Set alone would
// keep it in echo's context, which the attachment handler never sees.
func authenticate(tokens appauth.Tokens) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if u, ok := tokens.FromRequest(r); ok {
				c.Set("user", u) // for the application's own handlers
				c.SetRequest(r.WithContext(appauth.NewContext(r.Context(), u)))
			}
			return next(c) // no user: the access hook answers 401
		}
	}
}
