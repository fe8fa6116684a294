package attachment_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

type listBody struct {
	Data       []attachment.Attachment `json:"data"`
	HasMore    bool                    `json:"has_more"`
	NextCursor string                  `json:"next_cursor"`
}

func (e *env) list(query string) (listBody, *http.Response) {
	e.t.Helper()
	rec := e.do("GET", e.prefix+"/?"+query, nil)
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	var lb listBody
	require.NoError(e.t, json.Unmarshal(rec.Body.Bytes(), &lb))
	return lb, rec.Result()
}

func names(as []attachment.Attachment) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Filename
	}
	return out
}

func TestList(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			lb, _ := e.list("")
			assert.NotNil(t, lb.Data, "an empty list is [], not null")
			assert.Empty(t, lb.Data)

			e.do("POST", e.prefix+"/?filename=Report.PDF.txt&owner=doc:1&label.ws=a", strings.NewReader("1"))
			e.mustUpload("photo.png", pngBytes(t, 2, 2))
			e.do("POST", e.prefix+"/?filename=notes.txt&owner=doc:1&label.ws=b&label.x=y", strings.NewReader("3"))
			e.do("POST", e.prefix+"/?filename=report-final.txt&owner=doc:2&label.ws=a", strings.NewReader("4"))

			lb, _ = e.list("")
			assert.Equal(t, []string{"report-final.txt", "notes.txt", "photo.png", "Report.PDF.txt"}, names(lb.Data), "newest first")
			for _, a := range lb.Data {
				assert.Equal(t, e.prefix+"/"+a.ID, a.URL)
			}
			lb, _ = e.list("order=asc")
			assert.Equal(t, []string{"Report.PDF.txt", "photo.png", "notes.txt", "report-final.txt"}, names(lb.Data))
			lb, _ = e.list("owner=doc:1")
			assert.Equal(t, []string{"notes.txt", "Report.PDF.txt"}, names(lb.Data))
			lb, _ = e.list("label.ws=a")
			assert.Equal(t, []string{"report-final.txt", "Report.PDF.txt"}, names(lb.Data))
			lb, _ = e.list("label.ws=b&label.x=y")
			assert.Equal(t, []string{"notes.txt"}, names(lb.Data))
			lb, _ = e.list("label.ws=a&label.x=y")
			assert.Empty(t, lb.Data)
			lb, _ = e.list("q=REPORT")
			assert.Equal(t, []string{"report-final.txt", "Report.PDF.txt"}, names(lb.Data))
			lb, _ = e.list("type=image/")
			assert.Equal(t, []string{"photo.png"}, names(lb.Data))
			lb, _ = e.list("q=report&owner=doc:1")
			assert.Equal(t, []string{"Report.PDF.txt"}, names(lb.Data))

			for _, q := range []string{"limit=0", "limit=1001", "limit=x", "order=up", "cursor=!!", "cursor=AAAA", "label.a=1&label.a=2"} {
				requireProblem(t, e.do("GET", e.prefix+"/?"+q, nil), http.StatusBadRequest, "bad_request")
			}
		})
	}
}

func TestListPagination(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be, &envOpts{strip: true})
			var want []string
			for i := 0; i < 7; i++ {
				a := e.mustUpload(fmt.Sprintf("f%d.txt", i), []byte("x"))
				want = append([]string{a.ID}, want...)
			}
			var got []string
			query := "limit=3"
			for pages := 0; ; pages++ {
				require.Less(t, pages, 5)
				lb, resp := e.list(query)
				for _, a := range lb.Data {
					got = append(got, a.ID)
				}
				if !lb.HasMore {
					assert.Empty(t, lb.NextCursor)
					assert.Empty(t, resp.Header.Get("Link"))
					break
				}
				require.NotEmpty(t, lb.NextCursor)
				link := resp.Header.Get("Link")
				assert.True(t, strings.HasPrefix(link, "<"+e.prefix+"/?"), link)
				assert.Contains(t, link, `rel="next"`)
				// A cursor stays valid when its own attachment is deleted.
				if pages == 0 {
					require.Equal(t, http.StatusOK, e.do("DELETE", e.prefix+"/"+lb.Data[2].ID, nil).Code)
					want = append(want[:2], want[3:]...)
					got = got[:2]
				}
				query = "limit=3&cursor=" + url.QueryEscape(lb.NextCursor)
			}
			assert.Equal(t, want, got)
		})
	}
}
