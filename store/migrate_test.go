package store_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
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
	if err != nil || len(sources) < 3 {
		t.Fatalf("migrations: %v %v", sources, err)
	}
	var late int64
	// the latest but one whose tables no later migration alters (a migration that arrives late
	// builds on nothing that came after it)
	i := len(sources) - 2
	for ; i > 0 && alteredLater(t, sources, i); i-- {
	}
	if _, err := fmt.Sscanf(sources[i], "migrations/%05d", &late); err != nil {
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

// alteredLater reports whether a migration after sources[i] alters a table sources[i] creates.
func alteredLater(t *testing.T, sources []string, i int) bool {
	read := func(name string) string {
		b, err := fs.ReadFile(store.Migrations, name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, m := range regexp.MustCompile(`CREATE TABLE (\w+)`).FindAllStringSubmatch(read(sources[i]), -1) {
		for _, later := range sources[i+1:] {
			if strings.Contains(read(later), "ALTER TABLE "+m[1]+" ") {
				return true
			}
		}
	}
	return false
}
