// Package testenv starts the real infrastructure integration tests run against: one throwaway
// Postgres cluster and one embedded Temporal server per test binary. A package that uses it
// declares `func TestMain(m *testing.M) { testenv.Main(m) }` so both are stopped at the end.
package testenv

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/devenv"
	"github.com/tollgate-billing/tollgate/store"
)

var (
	pgOnce    sync.Once
	pgCluster *devenv.Postgres
	pgErr     error
	pgDir     string
	dbCounter atomic.Int64
	stoppers  []func()
	stopMu    sync.Mutex
)

const templateDB = "tollgate_template"

// Main runs the tests, then stops whatever the tests started.
func Main(m *testing.M) {
	code := m.Run()
	stopMu.Lock()
	for i := len(stoppers) - 1; i >= 0; i-- {
		stoppers[i]()
	}
	stopMu.Unlock()
	os.Exit(code)
}

func onExit(f func()) {
	stopMu.Lock()
	stoppers = append(stoppers, f)
	stopMu.Unlock()
}

// PostgresCluster returns the test binary's cluster, starting it (and a migrated template
// database) on first use.
func PostgresCluster(t testing.TB) *devenv.Postgres {
	t.Helper()
	pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		pgDir, pgErr = os.MkdirTemp("", "tollgate-test-pg")
		if pgErr != nil {
			return
		}
		port, err := devenv.FreePort()
		if err != nil {
			pgErr = err
			return
		}
		pgCluster, pgErr = devenv.StartPostgres(ctx, devenv.PostgresConfig{Dir: pgDir, Port: port, Database: templateDB, Throwaway: true})
		if pgErr != nil {
			return
		}
		onExit(func() { pgCluster.Stop(); os.RemoveAll(pgDir) })
		st, err := store.Open(ctx, pgCluster.URL())
		if err != nil {
			pgErr = err
			return
		}
		defer st.Close()
		pgErr = st.Migrate(ctx)
	})
	if pgErr != nil {
		t.Fatalf("start test postgres: %v", pgErr)
	}
	return pgCluster
}

// PostgresURL returns the URL of a fresh, migrated database for this test.
func PostgresURL(t testing.TB) string {
	t.Helper()
	cluster := PostgresCluster(t)
	ctx := context.Background()
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), dbCounter.Add(1))
	conn, err := pgx.Connect(ctx, cluster.AdminURL())
	if err != nil {
		t.Fatalf("connect to test cluster: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+templateDB); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	return cluster.URLFor(name)
}

// Postgres returns a store on a fresh, migrated database, closed when the test ends.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), PostgresURL(t))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

// Merchant creates a merchant on st and returns its reference and sandbox API key.
func Merchant(t testing.TB, st *store.Store, name string) (string, string) {
	t.Helper()
	m, key, err := st.CreateMerchant(context.Background(), name)
	if err != nil {
		t.Fatalf("create merchant: %v", err)
	}
	return m.Ref, key
}
