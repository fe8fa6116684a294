package chiapp_test

import (
	"net/http/httptest"
	"testing"

	"github.com/attachkit/attachment/examples/frameworks/chiapp"
	"github.com/attachkit/attachment/examples/frameworks/internal/roundtrip"
)

func TestRouter(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = chiapp.NewServer("", chiapp.NewRouter(roundtrip.NewService(t), roundtrip.Tokens))
	srv.Start()
	defer srv.Close()
	roundtrip.Check(t, srv.URL, "/files")
}
