package attachment

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/attachkit/attachment/wire"
)

// SignedURL signs a URL that reads attachment id of tenant, for hosts
// that hand out links from Go (in a page they render, an email). The
// attachment must exist in the tenant (an error wrapping ErrNotFound
// otherwise); the access hook is not asked, as there is no request: the
// host decides. The URL starts with HandlerOptions.Prefix, so a host that
// mounts the handler with http.StripPrefix and no Prefix gets it without
// its prefix. Without a Signer in HandlerOptions it is an error wrapping
// ErrNotFound, as the route is then absent.
func (h *Handler) SignedURL(ctx context.Context, tenant, id string, o *SignOptions) (*SignedURL, error) {
	if o == nil {
		o = &SignOptions{}
	}
	if h.signer == nil {
		return nil, errSigningDisabled
	}
	svc := h.svc.ForTenant(tenant)
	if _, err := svc.Get(ctx, id); err != nil {
		return nil, err
	}
	return h.sign(h.prefix, tenant, id, o)
}

var errSigningDisabled = &Error{Kind: ErrNotFound, Detail: "signed URLs are not enabled on this server"}

func (h *Handler) sign(base, tenant, id string, o *SignOptions) (*SignedURL, error) {
	q, exp, err := h.signer.Sign(tenant, id, o.TTL, o.Disposition)
	if err != nil {
		return nil, err
	}
	return &SignedURL{URL: base + "/" + url.PathEscape(id) + "?" + q.Encode(), ExpiresAt: exp}, nil
}

// CreateSignedURL handles POST /{id}/signed-url?ttl=SECONDS: 200 and a
// SignedURL as JSON. ttl is whole seconds: absent means the Signer's
// default, a malformed or non-positive one is a 400 bad_request, and one
// above the Signer's maximum is cut to it. ?disposition=inline is signed
// into the URL. The caller must be allowed OpDownload on the attachment by
// the access hook; another tenant's attachment is a 404 like a missing
// one. Without a Signer in HandlerOptions the route does not exist: 404
// not_found.
func (h *Handler) CreateSignedURL(w http.ResponseWriter, r *http.Request, id string) {
	if h.signer == nil {
		h.writeError(w, r, errSigningDisabled)
		return
	}
	q := r.URL.Query()
	var o SignOptions
	if v, ok := q["ttl"]; ok {
		n, err := strconv.ParseUint(v[0], 10, 64)
		if len(v) != 1 || (err != nil && !isRangeErr(err)) || n == 0 {
			h.problem(w, r, http.StatusBadRequest, wire.CodeBadRequest, "ttl must be a positive whole number of seconds")
			return
		}
		maxSecs := uint64(h.signer.MaxTTL() / time.Second)
		o.TTL = time.Duration(min(n, maxSecs)) * time.Second
	}
	switch o.Disposition = q.Get("disposition"); o.Disposition {
	case "", "attachment", "inline":
	default:
		h.problem(w, r, http.StatusBadRequest, wire.CodeBadRequest, "disposition must be inline or attachment")
		return
	}
	c, _, _, err := h.authorize(r, OpDownload, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	su, err := h.sign(h.base(r), c.Tenant, id, &o)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, "application/json", su)
}

// isRangeErr reports whether err is strconv's "value out of range": a ttl
// of more digits than fit is still a number, cut to the maximum.
func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// signedRequest reports whether r asks to be judged by a signature: a GET
// or HEAD with any signed-URL parameter in its query string.
func signedRequest(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && hasSignature(r.URL.Query())
}

// authorizeSigned grants a read of attachment id (its content or a
// thumbnail) by the request's signature alone: the access hook is not
// asked, as the caller who signed was. Without a Signer every signature is
// refused (403), never taken for credentials.
func (h *Handler) authorizeSigned(r *http.Request, id string) (Caller, *Service, *Attachment, error) {
	if h.signer == nil {
		return Caller{}, nil, nil, &Error{Kind: ErrForbidden, Detail: "signed URLs are not enabled on this server"}
	}
	tenant, err := h.signer.Verify(id, r.URL.Query())
	if err != nil {
		return Caller{}, nil, nil, err
	}
	svc := h.svc.ForTenant(tenant).WithCommitCheck(refuseWrites)
	a, err := svc.Get(r.Context(), id)
	if err != nil {
		return Caller{}, nil, nil, err
	}
	return Caller{Tenant: tenant}, svc, a, nil
}
