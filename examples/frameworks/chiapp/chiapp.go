// Package chiapp mounts the attachment handler on a chi router.
package chiapp

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/examples/frameworks/appauth"
)

// NewRouter returns the application's router with the attachment API under
// /files, behind the application's authentication middleware.
func NewRouter(svc *attachment.Service, tokens appauth.Tokens) chi.Router {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Route("/files", func(r chi.Router) {
		r.Use(authenticate(tokens))
		// Mount keeps the full path in the request: tell the handler
		// its prefix. (Mount also answers /files itself.)
		r.Mount("/", attachment.NewHandler(svc, &attachment.HandlerOptions{
			Prefix: "/files",
			Access: appauth.Access(),
		}))
	})
	return r
}

// authenticate is the application's middleware: it puts the request's user
// in its context, where the access hook finds it.
func authenticate(tokens appauth.Tokens) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, ok := tokens.FromRequest(r); ok {
				r = r.WithContext(appauth.NewContext(r.Context(), u))
			}
			next.ServeHTTP(w, r) // no user: the access hook answers 401
		})
	}
}

// NewServer returns the server for the router: a header timeout against
// slow clients, and no ReadTimeout or WriteTimeout, which would cut off
// large uploads and downloads.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
