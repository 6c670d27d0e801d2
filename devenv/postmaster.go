package devenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The private cluster's server is a direct child of this process, never a daemon: pg_ctl start
// detaches the postmaster, so a `tollgate dev` killed by SIGKILL, the OOM killer or a closed
// terminal used to leave it running, holding the port and the data directory's lock. As our
// child it gets a parent-death signal (SIGINT, Postgres' fast shutdown) whatever way we die.

// postmaster is a running server started by startPostmaster.
type postmaster struct {
	proc   *os.Process
	exited chan struct{} // closed when the process has exited; err says how
	err    error
}

// startPostmaster runs the server binary with args, its output appended to logPath, as cred's
// user when cred is set.
func startPostmaster(path string, args []string, logPath string, cred *syscall.Credential) (*postmaster, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	pm := &postmaster{exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Linux sends the parent-death signal when the thread that started the child ends, not
		// the process: this goroutine keeps its thread for as long as the server runs.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer logf.Close()
		cmd := exec.Command(path, args...)
		cmd.Dir = "/"
		cmd.Stdout, cmd.Stderr = logf, logf
		// Setpgid: a Ctrl-C in the terminal reaches us, not the server; we stop it in order.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGINT, Credential: cred}
		if err := cmd.Start(); err != nil {
			started <- fmt.Errorf("start postgres: %w", err)
			return
		}
		pm.proc = cmd.Process
		started <- nil
		pm.err = cmd.Wait()
		close(pm.exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return pm, nil
}

// stop asks for a fast shutdown and waits up to timeout, then shuts down immediately.
func (pm *postmaster) stop(timeout time.Duration) error {
	for _, step := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGINT, timeout}, {syscall.SIGQUIT, 5 * time.Second}, {syscall.SIGKILL, 5 * time.Second}} {
		_ = pm.proc.Signal(step.sig)
		select {
		case <-pm.exited:
			if step.sig != syscall.SIGINT {
				return fmt.Errorf("postgres needed %v to stop", step.sig)
			}
			return nil
		case <-time.After(step.wait):
		}
	}
	return errors.New("postgres did not stop")
}

// credential is the user the server runs as when we are root (initdb and postgres refuse root).
func (p *Postgres) credential() (*syscall.Credential, error) {
	if p.asUser == "" {
		return nil, nil
	}
	u, err := user.Lookup(p.asUser)
	if err != nil {
		return nil, fmt.Errorf("postgres must run as an unprivileged user and %q does not exist: %w", p.asUser, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// stopLeftover stops a server that an earlier run left running on this very data directory (a
// run of a version that started it detached, or one killed in a way that left it behind). It
// acts only when the directory's postmaster.pid names a live postgres process on this
// directory: a Postgres on another directory, or the system's cluster, is never touched.
func (p *Postgres) stopLeftover(ctx context.Context) error {
	pid, dir, ok := readPostmasterPID(p.dataDir)
	if !ok || !sameDir(dir, p.dataDir) || !isPostgres(pid, p.dataDir) {
		return nil
	}
	p.cfg.Logger.Warn("postgres: stopping the server an earlier run left running on this data directory", "pid", pid, "dir", p.dataDir)
	err := p.run(ctx, "pg_ctl", "stop", "-w", "-t", "30", "-m", "fast", "-D", p.dataDir)
	if err != nil {
		err = p.run(ctx, "pg_ctl", "stop", "-w", "-t", "30", "-m", "immediate", "-D", p.dataDir)
	}
	if err != nil {
		return fmt.Errorf("an earlier run's postgres (pid %d) is still running on %s and would not stop: %w", pid, p.dataDir, err)
	}
	return nil
}

// readPostmasterPID reads the pid and data directory from the first two lines of
// dataDir/postmaster.pid.
func readPostmasterPID(dataDir string) (int, string, bool) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, "", false
	}
	lines := strings.SplitN(string(b), "\n", 3)
	if len(lines) < 2 {
		return 0, "", false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 {
		return 0, "", false
	}
	return pid, strings.TrimSpace(lines[1]), true
}

func sameDir(a, b string) bool {
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}

// isPostgres says whether pid is alive and is a postgres server started on dataDir.
func isPostgres(pid int, dataDir string) bool {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
	if filepath.Base(args[0]) != "postgres" {
		return false
	}
	for i, a := range args {
		if (a == "-D" && i+1 < len(args) && sameDir(args[i+1], dataDir)) || (strings.HasPrefix(a, "-D") && sameDir(a[2:], dataDir)) {
			return true
		}
	}
	// started without -D (PGDATA in its environment): the lock file is the word for it
	return !bytes.Contains(raw, []byte("-D"))
}
