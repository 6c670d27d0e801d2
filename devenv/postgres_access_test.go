package devenv

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// withoutPassword is u with its password removed.
func withoutPassword(u string) string {
	parsed, _ := url.Parse(u)
	parsed.User = url.User(parsed.User.Username())
	return parsed.String()
}

// asNobody runs psql as another local user against the cluster, over TCP or the socket.
func asNobody(pg *Postgres, host string) error {
	return exec.Command("runuser", "-u", "nobody", "--", filepath.Join(pg.BinDir(), "psql"), "-w",
		"-h", host, "-p", strconv.Itoa(pg.Port()), "-U", "postgres", "-d", "postgres", "-c", "select 1").Run()
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestPostgresIsPrivate: on a shared machine another local user cannot use the cluster (a
// password on every connection, a private socket directory), and a data directory inside a
// closed home does not get the home opened: the cluster is made where the postgres user can
// reach it, with a link left in its place.
func TestPostgresIsPrivate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the cluster runs as the postgres user and the test connects as nobody")
	}
	closed := tempDir(t) // 0700, like /root
	dir := filepath.Join(closed, "project", ".tollgate", "postgres")
	pg := startTestPostgres(t, dir, 0, nil)
	home, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })

	if m := mode(t, closed); m != 0o700 {
		t.Errorf("the closed parent's mode changed to %o", m)
	}
	if !strings.HasPrefix(home, sharedHome+"/") {
		t.Errorf("cluster home %s, want one under %s", home, sharedHome)
	}
	for path, want := range map[string]os.FileMode{home: 0o700, pg.sockDir: 0o700, pg.passwordFile(): 0o600} {
		if m := mode(t, path); m != want {
			t.Errorf("%s has mode %o, want %o", path, m, want)
		}
	}
	if err := ping(t, pg.URL()); err != nil {
		t.Fatalf("the cluster's own URL: %v", err)
	}
	if err := ping(t, withoutPassword(pg.URL())); err == nil {
		t.Errorf("connected without the password")
	}
	for _, host := range []string{"127.0.0.1", pg.sockDir} {
		if err := asNobody(pg, host); err == nil {
			t.Errorf("another local user connected through %s", host)
		}
	}

	// A cluster made with trust by an earlier version gets a password at its next start.
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	hba := filepath.Join(pg.dataDir, "pg_hba.conf")
	if err := os.WriteFile(hba, []byte("local all all trust\nhost all all 127.0.0.1/32 trust\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(pg.passwordFile())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	again, err := StartPostgres(ctx, PostgresConfig{Dir: dir, Port: pg.Port(), Throwaway: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Stop() })
	if err := ping(t, again.URL()); err != nil {
		t.Fatalf("the upgraded cluster's URL: %v", err)
	}
	if err := asNobody(again, "127.0.0.1"); err == nil {
		t.Errorf("another local user connected to the upgraded cluster")
	}
}
