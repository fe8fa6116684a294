package stdmux_test

import (
	"net/http/httptest"
	"testing"

	"github.com/attachkit/attachment/examples/frameworks/internal/roundtrip"
	"github.com/attachkit/attachment/examples/frameworks/stdmux"
)

func TestRouter(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = stdmux.NewServer("", stdmux.NewRouter(roundtrip.NewService(t), roundtrip.Tokens))
	srv.Start()
	defer srv.Close()
	roundtrip.Check(t, srv.URL, "/files")
}
