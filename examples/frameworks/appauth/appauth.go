// Package appauth stands for a host application's own authentication: it
// finds the user of a request (here from a bearer token), and it turns that
// user into the attachment library's Caller.
//
// Every framework passes the user the same way: its middleware puts the
// user in the request's context (NewContext), and the access hook reads it
// back (Access). The attachment handler sees only the *http.Request, so a
// value kept in a framework's own context (echo's c.Set, gin's c.Set) is
// not enough on its own.
package appauth

import (
	"context"
	"net/http"
	"strings"

	"github.com/attachkit/attachment"
)

// User is who the application says is calling.
type User struct {
	ID  string // "ann"
	Org string // the tenant: users see only their organisation's files
}

// Tokens maps bearer tokens to users: the application's real
// authentication (sessions, JWTs, an identity provider) goes here.
type Tokens map[string]User

// FromRequest returns the user of r's "Authorization: Bearer TOKEN"
// header, if the token is known.
func (t Tokens) FromRequest(r *http.Request) (User, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return User{}, false
	}
	u, ok := t[token]
	return u, ok
}

type userKey struct{}

// NewContext returns ctx carrying u.
func NewContext(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// FromContext returns the user NewContext put in ctx.
func FromContext(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}

// Access is the attachment access hook: the caller is the user the
// middleware put in the request's context, acting in its organisation's
// tenant; a request without one is a 401. Any user may do anything in
// their own tenant, except that only the uploader may delete.
func Access() attachment.Access {
	return attachment.AccessFuncs{
		IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			u, ok := FromContext(r.Context())
			if !ok {
				return attachment.Caller{}, attachment.ErrUnauthorized
			}
			return attachment.Caller{Tenant: u.Org, Name: "user:" + u.ID}, nil
		},
		AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
			if op == attachment.OpDelete && a.CreatedBy != c.Name {
				return attachment.ErrForbidden
			}
			return nil
		},
	}
}
