package pgstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/internal/pgtest"
	"github.com/attachkit/attachment/metadata"
)

// A server that refuses connections (nothing listens on the port) is an
// outage: the real pgx error is metadata.ErrUnavailable.
func TestClassifyRefused(t *testing.T) {
	ctx := t.Context()
	pool, err := pgxpool.New(ctx, "postgres://postgres@127.0.0.1:1/x?connect_timeout=5")
	require.NoError(t, err)
	defer pool.Close()
	_, err = pool.Exec(ctx, `SELECT 1`)
	require.Error(t, err)
	got := classify(err)
	assert.ErrorIs(t, got, metadata.ErrUnavailable)
	assert.ErrorIs(t, got, err, "the cause is kept")
	assert.NotErrorIs(t, got, metadata.ErrInsufficientStorage)
}

// Server errors are outages by their SQLSTATE: a server shutting down is,
// a full disk is a full store, a bad password or an SQL error is neither;
// so is the caller's own cancellation.
func TestClassifyCodes(t *testing.T) {
	for code, want := range map[string]error{
		"57P01": metadata.ErrUnavailable, "57P03": metadata.ErrUnavailable, "08006": metadata.ErrUnavailable,
		"53300": metadata.ErrUnavailable, "53100": metadata.ErrInsufficientStorage,
		"28P01": nil, "42P01": nil, "23505": nil,
	} {
		err := fmt.Errorf("pgstore: get: %w", &pgconn.PgError{Code: code, Message: "m"})
		got := classify(err)
		if want == nil {
			assert.Equal(t, err, got, code)
			continue
		}
		assert.ErrorIs(t, got, want, code)
	}
	for _, err := range []error{context.Canceled, context.DeadlineExceeded, pgx.ErrNoRows, errors.New("x")} {
		assert.Equal(t, err, classify(err))
	}
}

// A connection the server ends (an administrator's pg_terminate_backend,
// as a server shutting down does) fails the call in progress with
// metadata.ErrUnavailable, and the store works again on its next call,
// without a restart.
func TestTerminatedConnection(t *testing.T) {
	_, conn := pgtest.Schema(t)
	ctx := t.Context()
	s, err := Open(ctx, conn+"&pool_max_conns=1", nil)
	require.NoError(t, err)
	defer s.Close()
	var pid int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	admin, err := pgx.Connect(ctx, pgtest.URL(t))
	require.NoError(t, err)
	defer admin.Close(context.Background())
	var ok bool
	require.NoError(t, admin.QueryRow(ctx, `SELECT pg_terminate_backend($1, 5000)`, pid).Scan(&ok))
	require.True(t, ok)
	time.Sleep(50 * time.Millisecond)

	_, err = s.Get(ctx, "", "0193b1a2-0000-7000-8000-000000000001")
	require.ErrorIs(t, err, metadata.ErrUnavailable)
	_, err = s.Get(ctx, "", "0193b1a2-0000-7000-8000-000000000001")
	require.ErrorIs(t, err, metadata.ErrNotFound, "the pool reconnects")
}
