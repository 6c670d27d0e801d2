package testenv

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/devenv"
)

// StripeMock runs stripe-mock on loopback for this test. A machine without it fails the test
// rather than skipping it: make test installs it (scripts/install-stripe-mock.sh).
func StripeMock(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("stripe-mock")
	if err != nil {
		if out, e2 := exec.Command("go", "env", "GOPATH").Output(); e2 == nil {
			p := filepath.Join(strings.TrimSpace(strings.Split(string(out), string(os.PathListSeparator))[0]), "bin", "stripe-mock")
			if _, e3 := os.Stat(p); e3 == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		t.Fatal("stripe-mock is not installed: make test installs it (scripts/install-stripe-mock.sh)")
	}
	ports := make([]int, 2)
	for i := range ports {
		var err error
		if ports[i], err = devenv.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-http-addr", fmt.Sprintf("127.0.0.1:%d", ports[0]), "-https-addr", fmt.Sprintf("127.0.0.1:%d", ports[1]))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/customers", nil)
		req.Header.Set("Authorization", "Bearer sk_test_123")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
	}
	t.Fatalf("stripe-mock did not answer on %s", base)
	return ""
}
