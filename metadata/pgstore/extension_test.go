package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// In a database without pg_trgm, the first Open installs it, as a user who
// owns the database but is no superuser (pg_trgm is a trusted extension).
// A user with no CREATE on the database can then open a schema of its own:
// the extension is used where it is.
func TestInstallsTrgm(t *testing.T) {
	base := serverURL(t)
	ctx := t.Context()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	suffix := hex.EncodeToString(b)
	owner, user, db := "pgstore_owner_"+suffix, "pgstore_user_"+suffix, "pgstore_db_"+suffix

	admin, err := pgx.Connect(ctx, base)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close(context.Background()) }) // after the cleanup below, which uses it
	for _, stmt := range []string{
		"CREATE ROLE " + owner + " LOGIN NOSUPERUSER",
		"CREATE ROLE " + user + " LOGIN NOSUPERUSER",
		"CREATE DATABASE " + db + " OWNER " + owner,
	} {
		_, err := admin.Exec(ctx, stmt)
		require.NoError(t, err, stmt)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for _, stmt := range []string{"DROP DATABASE IF EXISTS " + db + " WITH (FORCE)", "DROP ROLE IF EXISTS " + user, "DROP ROLE IF EXISTS " + owner} {
			if _, err := admin.Exec(ctx, stmt); err != nil {
				t.Errorf("%s: %v", stmt, err)
			}
		}
	})
	// as is the URL of the database for role (the server trusts loopback).
	as := func(role, searchPath string) string {
		u, err := url.Parse(base)
		require.NoError(t, err)
		if role != "" {
			u.User = url.User(role)
		}
		u.Path = "/" + db
		if searchPath != "" {
			q := u.Query()
			q.Set("search_path", searchPath)
			u.RawQuery = q.Encode()
		}
		return u.String()
	}

	s, err := Open(ctx, as(owner, ""), nil) // current schema: public, which the owner of the database owns
	require.NoError(t, err)
	var schema string
	require.NoError(t, s.pool.QueryRow(ctx,
		`SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'`).Scan(&schema))
	require.Equal(t, "public", schema)
	r := &metadata.Record{ID: "a", Tenant: "t", Filename: "Quarterly Report.pdf"}
	require.NoError(t, s.Create(ctx, []*metadata.Record{r}))
	for _, sub := range []string{"rep", "report", "QUARTERLY REPORT.PDF"} {
		recs, err := s.List(ctx, metadata.Query{Tenant: "t", FilenameContains: sub, Limit: 10})
		require.NoError(t, err)
		require.Len(t, recs, 1, sub)
	}
	require.NoError(t, s.Close())
	dbAdmin, err := pgx.Connect(ctx, as("", ""))
	require.NoError(t, err)
	_, err = dbAdmin.Exec(ctx, "CREATE SCHEMA app AUTHORIZATION "+user)
	require.NoError(t, err)
	require.NoError(t, dbAdmin.Close(ctx))

	var canCreate bool
	require.NoError(t, admin.QueryRow(ctx, "SELECT has_database_privilege($1, $2, 'CREATE')", user, db).Scan(&canCreate))
	require.False(t, canCreate)
	s, err = Open(ctx, as(user, "app"), nil)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Create(ctx, []*metadata.Record{r}))
	recs, err := s.List(ctx, metadata.Query{Tenant: "t", FilenameContains: "rep", Limit: 10})
	require.NoError(t, err)
	require.Len(t, recs, 1)
}
