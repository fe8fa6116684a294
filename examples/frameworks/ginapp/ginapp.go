// Package ginapp mounts the attachment handler on a gin engine.
package ginapp

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/examples/frameworks/appauth"
)

// NewRouter returns the application's gin engine with the attachment API
// under /files, behind the application's authentication middleware.
func NewRouter(svc *attachment.Service, tokens appauth.Tokens) *gin.Engine {
	r := gin.New()
	r.Use(gin.Recovery())

	// Gin keeps the full path in the request: tell the handler its prefix.
	h := gin.WrapH(attachment.NewHandler(svc, &attachment.HandlerOptions{
		Prefix: "/files",
		Access: appauth.Access(),
	}))
	g := r.Group("/files", authenticate(tokens))
	g.Any("", h)       // /files: upload and list
	g.Any("/*path", h) // everything under it
	return r
}

// authenticate is the application's middleware. The user goes into the
// request's context, where the access hook finds it: c.Set alone would
// keep it in gin's context, which the attachment handler never sees.
func authenticate(tokens appauth.Tokens) gin.HandlerFunc {
	return func(c *gin.Context) {
		if u, ok := tokens.FromRequest(c.Request); ok {
			c.Set("user", u) // for the application's own handlers
			c.Request = c.Request.WithContext(appauth.NewContext(c.Request.Context(), u))
		}
		c.Next() // no user: the access hook answers 401
	}
}

// NewServer returns the server for the engine. r.Run sets no timeouts;
// serve through an http.Server of your own with a header timeout against
// slow clients (and no ReadTimeout or WriteTimeout, which would cut off
// large uploads and downloads).
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
