// Package stdmux mounts the attachment handler on net/http's ServeMux.
package stdmux

import (
	"net/http"
	"time"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/examples/frameworks/appauth"
)

// NewRouter returns the application's mux with the attachment API under
// /files/, behind the application's authentication middleware.
func NewRouter(svc *attachment.Service, tokens appauth.Tokens) http.Handler {
	h := attachment.NewHandler(svc, &attachment.HandlerOptions{
		Prefix: "/files", // requests arrive with it; every URL returned has it
		Access: appauth.Access(),
	})
	mux := http.NewServeMux()
	mux.Handle("/files/", authenticate(tokens, h)) // "/files" redirects here
	// Or let ServeMux strip the prefix: the handler then finds it from
	// the request, and Prefix may be left empty.
	//   mux.Handle("/files/", http.StripPrefix("/files", authenticate(tokens, h)))
	return mux
}

// authenticate is the application's middleware: it puts the request's user
// in its context, where the access hook finds it.
func authenticate(tokens appauth.Tokens, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := tokens.FromRequest(r); ok {
			r = r.WithContext(appauth.NewContext(r.Context(), u))
		}
		next.ServeHTTP(w, r) // no user: the access hook answers 401
	})
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
