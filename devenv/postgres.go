// Package devenv runs the local infrastructure of `tollgate dev` and of the tests: a private
// Postgres cluster from Debian's binaries and an embedded Temporal server with its UI.
package devenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresConfig says where the private cluster lives and listens.
type PostgresConfig struct {
	Dir      string // the cluster's home: data/ and postgres.log are created inside
	Port     int    // listens on 127.0.0.1:Port
	Database string // created on first start; default "tollgate"
	// Throwaway turns off durability (fsync, synchronous_commit) for test clusters.
	Throwaway bool
	Logger    *slog.Logger
}

// Postgres is a running private cluster.
type Postgres struct {
	cfg     PostgresConfig
	bin     string
	dataDir string
	sockDir string
	asUser  string // run the binaries as this user (postgres) when we are root
	pw      string // the superuser's password (postgres_access.go)
	server  *postmaster
}

// StartPostgres initialises the cluster on first use, starts it and creates the database.
// It never touches the system's own cluster.
func StartPostgres(ctx context.Context, cfg PostgresConfig) (*Postgres, error) {
	if cfg.Database == "" {
		cfg.Database = "tollgate"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	bin, err := FindPostgresBinaries(cfg.Logger)
	if err != nil {
		return nil, err
	}
	p := &Postgres{cfg: cfg, bin: bin, dataDir: filepath.Join(cfg.Dir, "data")}
	if os.Geteuid() == 0 {
		p.asUser = "postgres" // initdb refuses to run as root
	}
	if err := p.placeHome(); err != nil {
		return nil, err
	}
	if err := p.stopLeftover(ctx); err != nil {
		return nil, err
	}
	if err := CheckPortFree("postgres", fmt.Sprintf("127.0.0.1:%d", cfg.Port), "--pg-port"); err != nil {
		return nil, err
	}
	if err := p.prepareDirs(); err != nil {
		return nil, err
	}
	pw, fresh, err := p.password()
	if err != nil {
		return nil, err
	}
	p.pw = pw
	if _, err := os.Stat(filepath.Join(p.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		cfg.Logger.Info("initialising postgres cluster", "dir", p.dataDir)
		if err := p.run(ctx, "initdb", "--no-sync", "-A", "scram-sha-256", "--pwfile", p.passwordFile(),
			"-U", "postgres", "-E", "UTF8", "--locale=C", "-D", p.dataDir); err != nil {
			return nil, err
		}
		fresh = false
	}
	if err := p.secure(ctx, pw, fresh); err != nil {
		return nil, err
	}
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	if err := p.createDatabase(ctx); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// FindPostgresBinaries returns the newest /usr/lib/postgresql/<v>/bin. When none is there it
// installs Debian's postgresql package if we are root, and otherwise says what to install.
func FindPostgresBinaries(log *slog.Logger) (string, error) {
	if dir := newestPostgresBin(); dir != "" {
		return dir, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("PostgreSQL server binaries not found under /usr/lib/postgresql: install them with `sudo apt-get install -y postgresql` (Debian's package), then run again")
	}
	log.Info("PostgreSQL binaries missing: installing Debian's postgresql package (apt-get)")
	for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "postgresql"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, tail(out))
		}
	}
	if dir := newestPostgresBin(); dir != "" {
		return dir, nil
	}
	return "", errors.New("postgresql installed but no binaries under /usr/lib/postgresql")
}

func newestPostgresBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	if len(dirs) == 0 {
		return ""
	}
	return filepath.Dir(dirs[0])
}

func versionOf(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

// prepareDirs makes the cluster's directories, owned by the user the binaries run as and closed
// to everyone else. The socket directory is short because Unix socket paths are limited to 107
// bytes.
func (p *Postgres) prepareDirs() error {
	if err := os.MkdirAll(p.cfg.Dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(p.cfg.Dir, 0o700); err != nil {
		return err
	}
	sock, err := os.MkdirTemp("", "tollgate-pg")
	if err != nil {
		return err
	}
	p.sockDir = sock
	if p.asUser == "" {
		return nil
	}
	cred, err := p.credential()
	if err != nil {
		return err
	}
	for _, d := range []string{p.cfg.Dir, sock} {
		if err := os.Chown(d, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// start runs the postmaster as our own child (see postmaster.go), so it cannot outlive us.
func (p *Postgres) start(ctx context.Context) error {
	args := []string{"-D", p.dataDir, "-p", strconv.Itoa(p.cfg.Port), "-k", p.sockDir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "shared_buffers=128MB"}
	if p.cfg.Throwaway {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cred, err := p.credential()
	if err != nil {
		return err
	}
	srv, err := startPostmaster(filepath.Join(p.bin, "postgres"), args, p.logFile(), cred)
	if err != nil {
		return err
	}
	if err := p.waitReady(ctx, srv); err != nil {
		srv.stop(5 * time.Second)
		return err
	}
	p.server = srv
	return nil
}

// waitReady waits until the new server accepts connections, or says why it never will.
func (p *Postgres) waitReady(ctx context.Context, srv *postmaster) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, p.AdminURL())
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-srv.exited:
			return fmt.Errorf("postgres exited at start (%v)%s", srv.err, p.logTail())
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections within 60 s: %w%s", err, p.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logTail is the end of postgres.log, to quote in an error.
func (p *Postgres) logTail() string {
	if b, _ := os.ReadFile(p.logFile()); len(b) > 0 {
		return "\npostgres.log: " + string(tail(b))
	}
	return ""
}

// logFile is where the server logs; run quotes its tail when a pg_ctl command fails.
func (p *Postgres) logFile() string { return filepath.Join(p.cfg.Dir, "postgres.log") }

// Restart restarts the server (fault tests: clients must see errors, not hangs, meanwhile).
func (p *Postgres) Restart(ctx context.Context) error {
	if p.server != nil {
		p.server.stop(30 * time.Second)
		p.server = nil
	}
	return p.start(ctx)
}

// Stop shuts the cluster down (fast mode: running transactions are rolled back).
func (p *Postgres) Stop() error {
	var err error
	if p.server != nil {
		err = p.server.stop(30 * time.Second)
		p.server = nil
	}
	os.RemoveAll(p.sockDir)
	return err
}

// URL of the cluster's database; AdminURL of its postgres database.
func (p *Postgres) URL() string      { return p.urlFor(p.cfg.Database) }
func (p *Postgres) AdminURL() string { return p.urlFor("postgres") }
func (p *Postgres) Port() int        { return p.cfg.Port }

// URLFor returns the URL of another database on the cluster.
func (p *Postgres) urlFor(db string) string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/%s?sslmode=disable", p.pw, p.cfg.Port, db)
}

// URLFor returns the URL of database db on this cluster.
func (p *Postgres) URLFor(db string) string { return p.urlFor(db) }

// BinDir is where the server binaries are (pgbench and psql for benchmarks).
func (p *Postgres) BinDir() string { return p.bin }

func (p *Postgres) createDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, p.AdminURL())
	if err != nil {
		return fmt.Errorf("connect to the new cluster: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, p.cfg.Database).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{p.cfg.Database}.Sanitize())
	return err
}

// run executes a cluster binary, as the postgres user when we are root (see runInput).
func (p *Postgres) run(ctx context.Context, name string, args ...string) error {
	return p.runInput(ctx, "", name, args...)
}

func tail(b []byte) []byte {
	const n = 2000
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
