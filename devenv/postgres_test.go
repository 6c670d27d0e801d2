package devenv

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// startTestPostgres starts a cluster in dir on port (a free one when 0).
func startTestPostgres(t *testing.T, dir string, port int, log *slog.Logger) *Postgres {
	t.Helper()
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := StartPostgres(ctx, PostgresConfig{Dir: dir, Port: port, Throwaway: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Stop() })
	return pg
}

func ping(t *testing.T, url string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// tempDir is a directory the postgres user can enter (t.TempDir's parents are private).
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tollgate-devenv-pg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestLeftoverPostgresIsStopped: a server left running detached on the cluster's data directory
// (what pg_ctl start did before the server became our child) is stopped, said in one line, and
// the cluster starts; a server on another directory is left alone.
func TestLeftoverPostgresIsStopped(t *testing.T) {
	other := startTestPostgres(t, tempDir(t), 0, nil)

	dir := tempDir(t)
	first := startTestPostgres(t, dir, 0, nil)
	port := first.Port()
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	// the leftover: started detached by pg_ctl as earlier versions did, then abandoned
	sock := tempDir(t)
	os.Chmod(sock, 0o777)
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", port, sock)
	if err := first.run(context.Background(), "pg_ctl", "start", "-w", "-D", first.dataDir, "-l", sock+"/leftover.log", "-o", opts); err != nil {
		t.Fatal(err)
	}
	leftover, _, ok := readPostmasterPID(first.dataDir)
	if !ok || !isPostgres(leftover, first.dataDir) {
		t.Fatalf("no leftover server to stop (pid %d)", leftover)
	}

	var logged bytes.Buffer
	second := startTestPostgres(t, dir, port, slog.New(slog.NewTextHandler(&logged, nil)))
	if err := ping(t, second.URL()); err != nil {
		t.Fatalf("cluster did not start after the leftover was stopped: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	if n := strings.Count(logged.String(), "earlier run left running"); n != 1 || len(lines) != 1 {
		t.Errorf("want one line saying the leftover was stopped, got:\n%s", logged.String())
	}
	// pg_ctl stop -w returns once postmaster.pid is gone, a moment before the process ends
	for deadline := time.Now().Add(10 * time.Second); isPostgres(leftover, first.dataDir); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("leftover pid %d still running", leftover)
		}
	}
	if err := ping(t, other.URL()); err != nil {
		t.Errorf("the server on another directory was touched: %v", err)
	}
}

// TestPostgresIsOurChild: the server is this process's own child (so its parent-death signal
// can fire), not a daemon; cmd/tollgate's TestDevSIGKILLLeavesNothing kills the real binary.
func TestPostgresIsOurChild(t *testing.T) {
	pg := startTestPostgres(t, tempDir(t), 0, nil)
	pid, _, ok := readPostmasterPID(pg.dataDir)
	if !ok || pid != pg.server.proc.Pid {
		t.Fatalf("postmaster.pid names %d, our child is %d", pid, pg.server.proc.Pid)
	}
	if got := os.Getpid(); parentOf(t, pid) != got {
		t.Fatalf("server's parent is %d, not this process %d", parentOf(t, pid), got)
	}
}

func parentOf(t *testing.T, pid int) int {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// pid (comm) state ppid …: comm may hold spaces, so read after its closing parenthesis
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	var ppid int
	fmt.Sscan(fields[1], &ppid)
	return ppid
}
