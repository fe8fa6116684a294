package ginapp_test

import (
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/attachkit/attachment/examples/frameworks/ginapp"
	"github.com/attachkit/attachment/examples/frameworks/internal/roundtrip"
)

func TestRouter(t *testing.T) {
	gin.SetMode(gin.TestMode)
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = ginapp.NewServer("", ginapp.NewRouter(roundtrip.NewService(t), roundtrip.Tokens))
	srv.Start()
	defer srv.Close()
	roundtrip.Check(t, srv.URL, "/files")
}
