package efalia

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// Token returns the credential an Efalia client sends, in the three ways
// the API's security schemes allow: "Authorization: Bearer TOKEN",
// "X-API-KEY: TOKEN", or "Authorization: Basic" with any user name and the
// token as the password. The Authorization header is read first; false
// when neither carries a non-empty token. The scheme names are matched
// without regard to case.
func Token(r *http.Request) (string, bool) {
	if tok, ok := authorizationToken(r.Header.Get("Authorization")); ok {
		return tok, true
	}
	if tok := strings.TrimSpace(r.Header.Get("X-API-KEY")); tok != "" {
		return tok, true
	}
	return "", false
}

// authorizationToken returns the token of a Bearer credential or the
// password of a Basic one.
func authorizationToken(v string) (string, bool) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return cred, cred != ""
	case strings.EqualFold(scheme, "Basic"):
		b, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return "", false
		}
		_, pass, ok := strings.Cut(string(b), ":")
		return pass, ok && pass != ""
	}
	return "", false
}
