package devenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Who may use the private cluster: only the one who started it. Every connection, over TCP on
// 127.0.0.1 or over the socket, needs the superuser's password (scram-sha-256), which is kept in
// the cluster's home readable by its owner only; the socket directory is private too. Test
// clusters work the same way, so no local user can reach any of them without the password.

// sharedHome is where a cluster lives when the postgres user cannot reach the directory asked
// for (a home directory such as /root is closed to others); we create it, and leave a symlink
// at the asked-for place.
const sharedHome = "/var/lib/tollgate"

// passwordFile holds the superuser's password.
func (p *Postgres) passwordFile() string { return filepath.Join(p.cfg.Dir, "password") }

// placeHome settles the cluster's home. Running as root, the cluster runs as the postgres user,
// which must be able to enter the home's parents; rather than opening someone's directories
// to others, a home it cannot reach is made under sharedHome.
func (p *Postgres) placeHome() error {
	if p.asUser == "" {
		return nil
	}
	dir, err := filepath.Abs(p.cfg.Dir)
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	if p.canEnter(filepath.Dir(dir)) {
		p.setHome(dir)
		return nil
	}
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("the postgres user cannot enter a parent of %s: move it to a directory it can reach, or remove it to have the cluster made under %s", dir, sharedHome)
	}
	sum := sha256.Sum256([]byte(dir))
	home := filepath.Join(sharedHome, "postgres-"+hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(sharedHome, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.Symlink(home, dir); err != nil {
		return err
	}
	p.cfg.Logger.Info("postgres: the postgres user cannot reach the data directory; the cluster lives in "+home, "link", dir)
	p.setHome(home)
	return nil
}

func (p *Postgres) setHome(dir string) {
	p.cfg.Dir = dir
	p.dataDir = filepath.Join(dir, "data")
}

// canEnter reports whether the user the cluster runs as can enter dir, or the nearest part of
// it that exists (what is missing we create, open to others).
func (p *Postgres) canEnter(dir string) bool {
	for {
		if _, err := os.Stat(dir); err == nil || dir == "/" {
			break
		}
		dir = filepath.Dir(dir)
	}
	return exec.Command("runuser", "-u", p.asUser, "--", "test", "-x", dir).Run() == nil
}

// password returns the superuser's password, creating it on first use; fresh is true when it
// was just created.
func (p *Postgres) password() (pw string, fresh bool, err error) {
	if b, err := os.ReadFile(p.passwordFile()); err == nil && len(bytes.TrimSpace(b)) > 0 {
		return string(bytes.TrimSpace(b)), false, nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", false, err
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", false, err
	}
	pw = hex.EncodeToString(raw)
	if err := p.writeOwned(p.passwordFile(), pw+"\n"); err != nil {
		return "", false, err
	}
	return pw, true, nil
}

// secure leaves an initialised cluster asking every connection for the password: an older
// cluster made with trust gets its password set (single-user mode, before the server starts)
// and its pg_hba.conf replaced.
func (p *Postgres) secure(ctx context.Context, pw string, fresh bool) error {
	if fresh {
		stmt := "ALTER ROLE postgres PASSWORD '" + pw + "';\n"
		if err := p.runInput(ctx, stmt, "postgres", "--single", "-D", p.dataDir, "postgres"); err != nil {
			return err
		}
	}
	return p.writeOwned(filepath.Join(p.dataDir, "pg_hba.conf"),
		"# written by tollgate at every start: a password for every connection\n"+
			"local all all scram-sha-256\n"+
			"host all all 127.0.0.1/32 scram-sha-256\n"+
			"host all all ::1/128 scram-sha-256\n")
}

// writeOwned writes a file only the cluster's user can read.
func (p *Postgres) writeOwned(path, body string) error {
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		return err
	}
	cred, err := p.credential()
	if err != nil || cred == nil {
		return err
	}
	return os.Chown(path, int(cred.Uid), int(cred.Gid))
}

// runInput executes a cluster binary with input on its standard input, as the postgres user
// when we are root. It runs in its own process group so a Ctrl-C in the terminal reaches us,
// not the cluster: we stop it in order.
func (p *Postgres) runInput(ctx context.Context, input, name string, args ...string) error {
	path := filepath.Join(p.bin, name)
	cmd := exec.CommandContext(ctx, path, args...)
	if p.asUser != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", p.asUser, "--", path}, args...)...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader(input)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s%s", name, strings.Join(args, " "), err, tail(out.Bytes()), p.logTail())
	}
	return nil
}
