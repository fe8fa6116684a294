package memstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/metadata/metadatatest"
)

func TestConformance(t *testing.T) {
	metadatatest.Run(t, func(*testing.T) metadata.Store { return memstore.New() })
}

func TestClaimArguments(t *testing.T) {
	s := memstore.New()
	_, err := s.Claim(t.Context(), time.Now(), time.Minute, 0)
	require.ErrorContains(t, err, "must be positive")
	_, err = s.Claim(t.Context(), time.Now(), 0, 1)
	require.ErrorContains(t, err, "must be positive")
}
