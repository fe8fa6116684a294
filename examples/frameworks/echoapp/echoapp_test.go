package echoapp_test

import (
	"net/http/httptest"
	"testing"

	"github.com/attachkit/attachment/examples/frameworks/echoapp"
	"github.com/attachkit/attachment/examples/frameworks/internal/roundtrip"
)

func TestRouter(t *testing.T) {
	e := echoapp.NewRouter(roundtrip.NewService(t), roundtrip.Tokens)
	srv := httptest.NewUnstartedServer(nil)
	e.Server.Handler = e // as e.Start does
	srv.Config = e.Server
	srv.Start()
	defer srv.Close()
	roundtrip.Check(t, srv.URL, "/files")
}
