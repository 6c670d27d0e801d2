//go:build !fuzzonly

package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/internal/testenv"
)

// The tutorials' curl lines are run through the user's own curl, byte for byte as printed: only
// the host and the key are substituted, no header is added. A rule of ours (content types,
// required bodies) that broke a printed command fails here.

// seedHost is the host seed 002 prints; the test server stands in for it.
const seedHost = "https://test.api.solvimon.com"

// seen is one request as the server received it.
type seen struct {
	method, path, contentType string
	status                    int
}

// recorder serves the API and keeps every request's method, path, content type and status.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
	next http.Handler
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: 200}
	rc.next.ServeHTTP(sw, r)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, seen{r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"), sw.status})
	rc.mu.Unlock()
}

func (rc *recorder) take() []seen {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := rc.reqs
	rc.reqs = nil
	return out
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// curlWorld is an API server behind a recorder, with one merchant's key.
func curlWorld(t *testing.T) (*recorder, *httptest.Server, string) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("curl is needed to replay the tutorials as printed (scripts/install-deps.sh installs it): %v", err)
	}
	st := testenv.Postgres(t)
	_, key := testenv.Merchant(t, st, "Acme")
	rc := &recorder{next: api.New(api.Config{Store: st})}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv, key
}

// runShell runs script with bash in dir (the user's shell and curl) and answers its stdout.
func runShell(t *testing.T, dir, script string) string {
	t.Helper()
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s\n%v\n%s", script, err, errOut.String())
	}
	return out.String()
}

// TestSeed002TutorialWithCurl replays steps 2 to 5 of seed 002 as printed.
func TestSeed002TutorialWithCurl(t *testing.T) {
	raw, err := os.ReadFile("testdata/seed002_commands.txt")
	if err != nil {
		t.Fatal(err)
	}
	if seed := findSeed002(); seed != "" { // the copy stays the seed's own text
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			if !strings.Contains(seed, line+"\n") {
				t.Fatalf("testdata line %q is not in seed 002 as printed", line)
			}
		}
	}
	rc, srv, key := curlWorld(t)
	cmds := testenv.TranscriptCommands(t, string(raw))
	if len(cmds) != 4 {
		t.Fatalf("seed 002 prints 4 commands (steps 2-5), parsed %d: %q", len(cmds), cmds)
	}
	var outs []string
	for _, c := range cmds {
		c = strings.ReplaceAll(strings.ReplaceAll(c, seedHost, srv.URL), "<apiKey>", key)
		outs = append(outs, runShell(t, t.TempDir(), c))
	}
	reqs := rc.take()
	want := []seen{
		{"GET", "/v1/customers", "", 200},
		{"POST", "/v1/customers", "application/json", 201},
		{"GET", "/v1/customers?reference=superstore-001", "", 200},
		{"POST", "/v1/customers/superstore-001/activate", "application/x-www-form-urlencoded", 200},
	}
	if len(reqs) != len(want) {
		t.Fatalf("requests %+v, want %+v", reqs, want)
	}
	for i := range want {
		if reqs[i] != want[i] {
			t.Errorf("step %d: server saw %+v, want %+v\n%s", i+2, reqs[i], want[i], outs[i])
		}
	}
	var activated map[string]any
	if err := json.Unmarshal([]byte(outs[3]), &activated); err != nil || activated["status"] != "ACTIVE" || activated["reference"] != "superstore-001" {
		t.Fatalf("step 5 answered %s", outs[3])
	}
	// the command as its first two printed lines alone (no body) activates too
	first := strings.SplitN(cmds[3], "\n-d", 2)[0]
	first = strings.TrimSuffix(strings.ReplaceAll(strings.ReplaceAll(first, seedHost, srv.URL), "<apiKey>", key), ` \`)
	runShell(t, t.TempDir(), first)
	if r := rc.take(); len(r) != 1 || r[0].status != 200 || r[0].contentType != "" {
		t.Fatalf("step 5 without a body: %+v", r)
	}
}

// TestReadmeFirstRequestsWithCurl runs the README's "First requests" block as printed, in a
// folder whose .tollgate/dev.env is what `tollgate dev` writes.
func TestReadmeFirstRequestsWithCurl(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := readmeBlock(t, string(readme), "### First requests")
	rc, srv, key := curlWorld(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".tollgate"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := "TOLLGATE_API_URL=" + srv.URL + "\nTOLLGATE_API_KEY=" + key + "\n"
	if err := os.WriteFile(filepath.Join(dir, ".tollgate", "dev.env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runShell(t, dir, "set -e\n"+block)
	reqs := rc.take()
	if n := strings.Count(block, "curl "); len(reqs) != n {
		t.Fatalf("%d curl lines, server saw %+v", n, reqs)
	}
	for _, r := range reqs {
		if r.status >= 300 {
			t.Errorf("%s %s answered %d\n%s", r.method, r.path, r.status, out)
		}
	}
	if !strings.Contains(out, `"status":"ACTIVE"`) {
		t.Errorf("the block does not end with an active customer:\n%s", out)
	}
}

// readmeBlock is the first ```sh block after heading.
func readmeBlock(t *testing.T, readme, heading string) string {
	t.Helper()
	_, after, ok := strings.Cut(readme, heading)
	if !ok {
		t.Fatalf("README has no %q", heading)
	}
	_, after, ok = strings.Cut(after, "```sh\n")
	if !ok {
		t.Fatalf("no sh block after %q", heading)
	}
	block, _, _ := strings.Cut(after, "```")
	return block
}

// findSeed002 is seed 002's text where the seeds sit beside the repository, or "".
func findSeed002() string {
	matches, _ := filepath.Glob("../../shared/seeds/002_*.txt")
	if len(matches) == 0 {
		return ""
	}
	raw, err := os.ReadFile(matches[0])
	if err != nil {
		return ""
	}
	return string(raw)
}
