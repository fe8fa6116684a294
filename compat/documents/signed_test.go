package documents_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/documents"
	"github.com/attachkit/attachment/internal/compattest"
)

// TestSignedFileURL: a file URL that carries a native signed URL's query
// (sig, kid, expires) is judged by the signature alone, as the native
// download is: a valid one reads without credentials, any other is 403.
func TestSignedFileURL(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		signer, err := attachment.NewSigner(attachment.SignerOptions{Keys: []attachment.SigningKey{{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)}}})
		require.NoError(t, err)
		env := compattest.NewEnv(t, be, &compattest.Options{Credential: documents.Token, Handler: &attachment.HandlerOptions{Signer: signer}})
		env.Mount(documents.BasePath, documents.New(env.Handler, &documents.Options{Prefix: documents.BasePath}))
		a := requireItem(t, data(t, upload(env, field("workspaceId", workspaceID), field("documentId", documentID), pdfFile()), http.StatusCreated))
		b := requireItem(t, data(t, upload(env, field("workspaceId", workspaceID), field("documentId", documentID), pdfFile()), http.StatusCreated))

		q, _, err := signer.Sign("", a["id"].(string), time.Minute, "")
		require.NoError(t, err)
		rec := env.Do(http.MethodGet, a["url"].(string)+"&"+q.Encode(), nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, compattest.PDF, rec.Body.Bytes())

		// Another attachment's key with that signature, or a tampered one.
		requireError(t, env.Do(http.MethodGet, b["url"].(string)+"&"+q.Encode(), nil), http.StatusForbidden, "forbidden")
		q.Set("sig", "AAAA"+q.Get("sig")[4:])
		requireError(t, env.Do(http.MethodGet, a["url"].(string)+"&"+q.Encode(), nil, bearer...), http.StatusForbidden, "forbidden")
	})
}
