package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/chat"
	"github.com/attachkit/attachment/compat/coco"
	"github.com/attachkit/attachment/compat/documents"
	"github.com/attachkit/attachment/compat/efalia"
	"github.com/attachkit/attachment/compat/protocol"
)

// dialect is one of the seed systems' APIs the server can speak beside
// the native one (-dialect NAME).
type dialect struct {
	// base is the path its document serves it under.
	base string
	// token finds the credential as that system's clients send it.
	token func(r *http.Request) (string, bool)
	// mount returns it over the native Handler, mounted at prefix.
	mount func(h *attachment.Handler, prefix string) http.Handler
}

// dialects are the dialects by name.
func dialects() map[string]dialect {
	return map[string]dialect{
		"coco": {coco.BasePath, coco.Token, func(h *attachment.Handler, p string) http.Handler {
			return coco.New(h, &coco.Options{Prefix: p})
		}},
		"protocol": {protocol.BasePath, protocol.Token, func(h *attachment.Handler, p string) http.Handler {
			return protocol.New(h, &protocol.Options{Prefix: p})
		}},
		"documents": {documents.BasePath, documents.Token, func(h *attachment.Handler, p string) http.Handler {
			return documents.New(h, &documents.Options{Prefix: p})
		}},
		"efalia": {efalia.BasePath, efalia.Token, func(h *attachment.Handler, p string) http.Handler {
			return efalia.New(h, &efalia.Options{Prefix: p})
		}},
		"chat": {chat.BasePath, chat.Token, func(h *attachment.Handler, p string) http.Handler {
			return chat.New(h, &chat.Options{Prefix: p})
		}},
	}
}

// credential is how a dialect's clients carry the token, on the routes
// under prefix.
type credential struct {
	prefix string
	token  func(r *http.Request) (string, bool)
}

// dialectCredential returns the credential of c's dialect, or nil when it
// serves none.
func (c config) dialectCredential() *credential {
	if c.dialect == "" {
		return nil
	}
	return &credential{prefix: c.dialectPrefix, token: dialects()[c.dialect].token}
}

// dialectNames lists the dialects, sorted, for flag help and errors.
func dialectNames() string {
	var names []string
	for n := range dialects() {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// checkDialect validates -dialect and -dialect-prefix in c, and fills in
// the dialect's base path when -dialect-prefix is not given.
func checkDialect(c *config) error {
	if c.dialect == "" {
		if c.dialectPrefix != "" {
			return fmt.Errorf("-dialect-prefix needs -dialect")
		}
		return nil
	}
	d, ok := dialects()[c.dialect]
	if !ok {
		return fmt.Errorf("-dialect %q: not one of %s", c.dialect, dialectNames())
	}
	if c.dialectPrefix == "" {
		c.dialectPrefix = d.base
	}
	c.dialectPrefix = "/" + strings.Trim(c.dialectPrefix, "/")
	if c.dialectPrefix == "/" {
		return fmt.Errorf("-dialect-prefix must not be empty")
	}
	if within(c.dialectPrefix, c.prefix) || within(c.prefix, c.dialectPrefix) {
		return fmt.Errorf("-dialect-prefix %s and -prefix %s overlap: choose another for one of them", c.dialectPrefix, c.prefix)
	}
	if within(demoAssets, c.dialectPrefix+"/") || within(c.dialectPrefix+"/", demoAssets) {
		return fmt.Errorf("-dialect-prefix %s is where the demo page keeps its files", c.dialectPrefix)
	}
	return nil
}

// within reports whether path p is prefix or lies under it.
func within(p, prefix string) bool {
	prefix = strings.TrimRight(prefix, "/")
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}
