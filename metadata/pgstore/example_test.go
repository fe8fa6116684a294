package pgstore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/pgstore"
)

// A host opens the store by URL, as it would any other. The search_path
// parameter keeps the tables in a schema of their own (which must exist).
//
// This example needs a PostgreSQL server, so it is compiled but not run.
func Example() {
	ctx := context.Background()
	s, err := metadata.OpenStore(ctx, "postgres://app:secret@localhost:5432/app?sslmode=disable&search_path=attachments")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	page, err := s.List(ctx, metadata.Query{Tenant: "acme", FilenameContains: "invoice", Limit: 20})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range page {
		fmt.Println(r.ID, r.Filename)
	}
}

// A host that has a pool of its own hands it to New; closing the store
// leaves the pool open.
//
// This example needs a PostgreSQL server, so it is compiled but not run.
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@localhost/app?search_path=attachments")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	s, err := pgstore.New(ctx, pool, &pgstore.Options{NoMigrate: true}) // migrated by a deploy step
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// The store is a metadata.Queue too: claim up to ten jobs that are due.
	jobs, err := s.Claim(ctx, time.Now(), time.Minute, 10)
	if err != nil {
		log.Fatal(err)
	}
	for _, j := range jobs {
		fmt.Println(j.AttachmentID, j.Processor, j.Attempt)
	}
}
