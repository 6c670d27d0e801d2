package store_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// A database that ran every migration but one in the middle — a migration that reached main
// after a higher-numbered one — takes the missing one at the next start instead of refusing.
func TestMigrateAppliesAMigrationThatArrivedLate(t *testing.T) {
	ctx := context.Background()
	cluster := testenv.PostgresCluster(t)
	name := fmt.Sprintf("late_%d", os.Getpid())
	admin, err := pgx.Connect(ctx, cluster.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, cluster.URLFor(name))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	sources, err := fs.Glob(store.Migrations, "migrations/*.sql")
	if err != nil || len(sources) < 4 {
		t.Fatalf("migrations: %v %v", sources, err)
	}
	var late int64
	// the third from last: the last two may build on each other (00230 alters 00200's tables),
	// which no migration that arrives late does
	if _, err := fmt.Sscanf(sources[len(sources)-3], "migrations/%05d", &late); err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(st.Pool)
	defer db.Close()
	sub, _ := fs.Sub(store.Migrations, "migrations")
	early, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithExcludeVersions([]int64{late}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := early.Up(ctx); err != nil {
		t.Fatal(err)
	}

	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate with %05d arriving late: %v", late, err)
	}
	var applied bool
	if err := st.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM goose_db_version WHERE version_id = $1 AND is_applied)`,
		late).Scan(&applied); err != nil || !applied {
		t.Fatalf("migration %05d applied: %v %v", late, applied, err)
	}
}
