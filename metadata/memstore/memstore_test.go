package memstore_test

import (
	"testing"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/metadata/metadatatest"
)

func TestConformance(t *testing.T) {
	metadatatest.Run(t, func(*testing.T) metadata.Store { return memstore.New() })
}
