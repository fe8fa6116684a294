//go:build faultblob_conformance

// The gocloud.dev driver conformance suite (gocloud.dev/blob/drivertest)
// imports github.com/google/go-cmp, which this module's go.mod does not list,
// so it is kept behind a build tag. Run it with a scratch module file:
//
//	cp go.mod /tmp/conf.mod && cp go.sum /tmp/conf.sum
//	go mod edit -modfile=/tmp/conf.mod -require=github.com/google/go-cmp@v0.7.0
//	go test -race -tags faultblob_conformance -modfile=/tmp/conf.mod ./internal/faultblob

package faultblob

import (
	"context"
	"net/http"
	"testing"

	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/blob/drivertest"
	"gocloud.dev/blob/memblob"
)

// harness runs the gocloud.dev driver conformance suite against faultblob
// over memblob with no faults installed.
type harness struct {
	inner  *blob.Bucket
	faults *Faults
}

func (h *harness) MakeDriver(context.Context) (driver.Bucket, error) {
	return &bucket{inner: h.inner, faults: h.faults}, nil
}

func (h *harness) MakeDriverForNonexistentBucket(context.Context) (driver.Bucket, error) {
	return nil, nil // no such concept for a wrapper over memblob
}

func (h *harness) HTTPClient() *http.Client         { return nil }
func (h *harness) SupportsCopy() bool               { return true }
func (h *harness) SupportsNonSlashDelimiters() bool { return true }
func (h *harness) Close()                           { _ = h.inner.Close() }

func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, func(context.Context, *testing.T) (drivertest.Harness, error) {
		return &harness{inner: memblob.OpenBucket(nil), faults: &Faults{}}, nil
	}, nil)
}
