package resumable

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/attachkit/attachment"
)

// MaxConcatParts is the most partial uploads one final upload may join.
const MaxConcatParts = 1000

// ParseConcat decodes an Upload-Concat header value: "partial", or
// "final;" followed by the URLs of the partial uploads to join, in order,
// separated by spaces. It reports whether the upload is a partial one,
// and else returns the URLs (at least one, at most MaxConcatParts).
func ParseConcat(v string) (partial bool, urls []string, err error) {
	v = strings.Trim(v, " \t")
	if v == "partial" {
		return true, nil, nil
	}
	list, ok := strings.CutPrefix(v, "final;")
	if !ok {
		return false, nil, errors.New(`Upload-Concat must be "partial" or "final;" and the partial uploads' URLs`)
	}
	urls = strings.Fields(list)
	switch {
	case len(urls) == 0:
		return false, nil, errors.New("Upload-Concat: final names no partial upload")
	case len(urls) > MaxConcatParts:
		return false, nil, errors.New("Upload-Concat: final names more than " + strconv.Itoa(MaxConcatParts) + " partial uploads")
	}
	return false, urls, nil
}

// partialID is the ID of the upload at the URL u, which must be one of
// this layer's upload URLs: {base}/uploads/{id}, absolute (any host: a
// proxy may have rewritten it) or relative to the request's.
func (q *request) partialID(u string) (string, error) {
	ref, err := url.Parse(u)
	if err == nil {
		ref = q.r.URL.ResolveReference(ref)
	}
	if err != nil {
		return "", badRequest("Upload-Concat has a malformed URL")
	}
	id, ok := strings.CutPrefix(ref.Path, q.base+"/uploads/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", badRequest("Upload-Concat names " + strconv.Quote(truncate(u)) + ", not an upload URL of this server")
	}
	return id, nil
}

func truncate(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

// createFinal answers the creation of a final upload: the concatenation
// of the partial uploads at urls, committed at once.
func (q *request) createFinal(urls []string, nu *attachment.NewUpload) {
	if len(q.r.Header.Values("Upload-Length")) > 0 || q.r.Header.Get("Upload-Defer-Length") != "" {
		q.fail(badRequest("a final upload (Upload-Concat: final) has no Upload-Length: it is the sum of its partial uploads'"))
		return
	}
	ids := make([]string, len(urls))
	for i, u := range urls {
		id, err := q.partialID(u)
		if err != nil {
			q.fail(err)
			return
		}
		ids[i] = id
	}
	info, err := q.svc.ConcatUploads(q.r.Context(), nu, ids)
	if err != nil {
		q.fail(err)
		return
	}
	hdr := q.w.Header()
	hdr.Set("Location", q.uploadURL(info.ID))
	hdr.Set("Upload-Offset", strconv.FormatInt(info.Offset, 10))
	hdr.Set("Upload-Length", strconv.FormatInt(info.Length, 10))
	q.w.WriteHeader(http.StatusCreated)
}
