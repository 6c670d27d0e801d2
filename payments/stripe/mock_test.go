package stripe_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// One stripe-mock per test binary: it is stateless, so tests can share it.
var (
	mockOnce sync.Once
	mockURL  string
	mockErr  error
	mockCmd  *exec.Cmd
)

func TestMain(m *testing.M) {
	code := m.Run()
	if mockCmd != nil && mockCmd.Process != nil {
		_ = mockCmd.Process.Kill()
		_ = mockCmd.Wait()
	}
	os.Exit(code)
}

// stripeMock returns the base URL of a stripe-mock listening on loopback.
func stripeMock(t *testing.T) string {
	t.Helper()
	mockOnce.Do(func() { mockURL, mockErr = startStripeMock() })
	if mockErr != nil {
		t.Fatal(mockErr)
	}
	return mockURL
}

func findStripeMock() (string, error) {
	if path, err := exec.LookPath("stripe-mock"); err == nil {
		return path, nil
	}
	// Where `go install` puts it: GOBIN when set, else the first GOPATH's bin.
	var dirs []string
	if out, err := exec.Command("go", "env", "GOBIN").Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(dir, "bin"))
		}
	}
	for _, dir := range dirs {
		path := filepath.Join(dir, "stripe-mock")
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("stripe-mock not found on PATH, in GOBIN or in $(go env GOPATH)/bin: run scripts/install-stripe-mock.sh")
}

func startStripeMock() (string, error) {
	bin, err := findStripeMock()
	if err != nil {
		return "", err
	}
	httpPort, err := freePort()
	if err != nil {
		return "", err
	}
	httpsPort, err := freePort()
	if err != nil {
		return "", err
	}
	var logs bytes.Buffer
	mockCmd = exec.Command(bin,
		"-http-addr", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"-https-addr", fmt.Sprintf("127.0.0.1:%d", httpsPort))
	mockCmd.Stdout, mockCmd.Stderr = &logs, &logs
	if err := mockCmd.Start(); err != nil {
		return "", fmt.Errorf("start stripe-mock: %w", err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/customers", nil)
		req.Header.Set("Authorization", "Bearer sk_test_123")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", fmt.Errorf("stripe-mock did not answer on %s: %s", base, logs.String())
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// recorded is one request as it left stripe-go.
type recorded struct {
	Method, Path, IdempotencyKey string
	Form                         url.Values
	Status                       int
}

// recorder is an http.RoundTripper that keeps every request, to prove what reached Stripe.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := recorded{Method: req.Method, Path: req.URL.Path, IdempotencyKey: req.Header.Get("Idempotency-Key")}
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		rec.Form, _ = url.ParseQuery(string(body))
	}
	if req.URL.RawQuery != "" { // a GET's parameters
		rec.Form, _ = url.ParseQuery(req.URL.RawQuery)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if res != nil {
		rec.Status = res.StatusCode
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	return res, err
}

// only returns the one request to path, failing the test unless there is exactly one.
func (r *recorder) only(t *testing.T, method, path string) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var found []recorded
	for _, q := range r.reqs {
		if q.Method == method && q.Path == path {
			found = append(found, q)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d requests %s %s in %+v", len(found), method, path, r.reqs)
	}
	return found[0]
}
