package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/devenv"
	"github.com/tollgate-billing/tollgate/internal/testenv"
)

// apiProcess is `tollgate api` running as a process of its own.
type apiProcess struct {
	url string
	log *testenv.LogBuffer
}

func startAPIProcess(t *testing.T, dbURL string) apiProcess {
	t.Helper()
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := apiProcess{url: "http://" + addr, log: &testenv.LogBuffer{}}
	cmd := exec.Command(os.Args[0], "api")
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "DATABASE_URL="+dbURL, "TOLLGATE_ADDR="+addr, "LOG_LEVEL=debug",
		"TEMPORAL_ADDRESS="+testenv.TemporalAddress(t), "TEMPORAL_NAMESPACE="+testenv.TemporalServer(t).Namespace())
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("API process %s:\n%s", addr, p.log.String())
		}
	})
	return p
}

// waitLog waits until the process has logged msg more than n times.
func (p apiProcess) waitLog(t *testing.T, msg string, n int) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); strings.Count(p.log.String(), msg) <= n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never logged %q", p.url, msg)
		}
	}
}

func (p apiProcess) status(t *testing.T, key string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", p.url+"/v1/customers", nil)
	req.Header.Set("X-API-KEY", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestRevocationReachesTwoAPIProcesses: two `tollgate api` processes on one database each accept
// a key (and remember it); `tollgate keys revoke` in a third process makes both refuse it on
// their next request once Postgres's announcement reaches them — no cache window to wait out.
func TestRevocationReachesTwoAPIProcesses(t *testing.T) {
	dbURL := testenv.PostgresURL(t)
	out, err := cli(t, dbURL, "merchants", "create", "--name", "Acme")
	if err != nil {
		t.Fatal(err, out)
	}
	key := regexp.MustCompile(`sk_sandbox_\w+`).FindString(out)
	id := regexp.MustCompile(`sandbox key (key_\w+)`).FindStringSubmatch(out)
	if key == "" || id == nil {
		t.Fatalf("merchants create printed no sandbox key:\n%s", out)
	}
	const listening, changed = "API key changes: listening", "API key changes: a key changed"
	procs := []apiProcess{startAPIProcess(t, dbURL), startAPIProcess(t, dbURL)}
	for _, p := range procs {
		p.waitLog(t, listening, 0)
		for range 2 { // the second is answered from what the first remembered
			if s := p.status(t, key); s != 200 {
				t.Fatalf("%s refuses a valid key: %d", p.url, s)
			}
		}
	}
	if out, err := cli(t, dbURL, "keys", "revoke", id[1]); err != nil {
		t.Fatal(err, out)
	}
	for _, p := range procs {
		p.waitLog(t, changed, 0)
		if s := p.status(t, key); s != 401 {
			t.Errorf("%s accepts the revoked key: %d", p.url, s)
		}
	}
}
