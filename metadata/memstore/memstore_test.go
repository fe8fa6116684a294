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

// A lease shorter than the microsecond the store keeps runs out at once:
// the job is claimed once per call, not again within the call.
func TestClaimTinyLease(t *testing.T) {
	s := memstore.New()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, s.Create(t.Context(), []*metadata.Record{{ID: "a", Processing: map[string]string{"p": ""}, CreatedAt: now}}))
	for attempt := 1; attempt <= 3; attempt++ {
		jobs, err := s.Claim(t.Context(), now, time.Nanosecond, 10)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		require.Equal(t, attempt, jobs[0].Attempt)
	}
}
