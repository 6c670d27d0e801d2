// Package store is Tollgate's Postgres access (pgx/v5) and its migrations.
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/telemetry"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store wraps the connection pool. Methods live beside it, one file per object kind.
type Store struct {
	Pool *pgxpool.Pool
	// CheckoutTTL and PortalTTL are the lifetimes of new hosted-page sessions when a caller
	// passes none; zero means the defaults (24 h and 15 min).
	CheckoutTTL, PortalTTL time.Duration
	// PublicURL is the address customers reach the hosted pages at (TOLLGATE_PUBLIC_URL), for
	// the links events carry (a payment's /pay/<token> page); empty: the links are paths.
	PublicURL string
}

// Open connects to url and checks the connection.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if cfg.MaxConns < 16 {
		cfg.MaxConns = 16
	}
	if t := telemetry.PgxTracer(); t != nil { // a span per query inside a trace, when tracing is on
		cfg.ConnConfig.Tracer = t
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return &Store{Pool: pool}, nil
}

// Close releases the pool.
func (s *Store) Close() { s.Pool.Close() }

// Ping checks Postgres is reachable (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.Pool.Ping(ctx) }

// Migrate applies every embedded migration that has not run yet.
func (s *Store) Migrate(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(s.Pool)
	defer db.Close()
	// Migrations are numbered in blocks as they are written side by side; a database that
	// already ran a higher number takes a lower one that reached main later, rather than refusing
	// to start. Each migration stands alone, so their order between blocks does not matter.
	provider, err := goose.NewProvider(goose.DialectPostgres, db, mustSub(migrations, "migrations"),
		goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// InTx runs fn in a transaction, committing when it returns nil.
func (s *Store) InTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, fn)
}

// isUniqueViolation reports a unique-constraint failure (SQLSTATE 23505), optionally of one
// named constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "23505" {
		return false
	}
	return constraint == "" || pg.ConstraintName == constraint
}

// IsUniqueViolation is isUniqueViolation for other packages.
func IsUniqueViolation(err error, constraint string) bool { return isUniqueViolation(err, constraint) }

// notFoundIfNoRows turns pgx.ErrNoRows into the domain's 404.
func notFoundIfNoRows(err error, kind, ref string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.NotFound(kind, ref)
	}
	return err
}

// DBTX is what a pool and a transaction have in common, so queries run in either.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
