package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/devenv"
)

// devProcess is `tollgate dev` running as a subprocess on free ports.
type devProcess struct {
	cmd                      *exec.Cmd
	dir                      string
	api, ui, temporal, pgURL string
	ports                    []int
	out                      *bytes.Buffer
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tollgate")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// devSetup builds the binary and picks a data directory (one the postgres user can enter) and
// four free ports: API, Postgres, Temporal, UI.
func devSetup(t *testing.T) (bin, dataDir string, ports []int) {
	t.Helper()
	bin = buildBinary(t)
	dataDir, err := os.MkdirTemp("", "tollgate-dev-test")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dataDir, 0o755); err != nil { // MkdirTemp's 0700 would keep postgres out
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dataDir) })
	ports = make([]int, 4)
	for i := range ports {
		ports[i], _ = devenv.FreePort()
	}
	return bin, dataDir, ports
}

func startDev(t *testing.T, bin, dataDir string, ports []int) *devProcess {
	t.Helper()
	p := &devProcess{dir: dataDir, ports: ports, out: &bytes.Buffer{},
		api: fmt.Sprintf("127.0.0.1:%d", ports[0]), ui: fmt.Sprintf("http://127.0.0.1:%d", ports[3]),
		temporal: fmt.Sprintf("127.0.0.1:%d", ports[2])}
	p.cmd = exec.Command(bin, "dev", "--data-dir", dataDir, "--addr", p.api,
		"--pg-port", fmt.Sprint(ports[1]), "--temporal-port", fmt.Sprint(ports[2]), "--ui-port", fmt.Sprint(ports[3]))
	p.cmd.Env = append(os.Environ(), "TOLLGATE_PUBLIC_URL=")
	pr, pw := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.out.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "Tollgate is running") {
				close(ready)
			}
		}
	}()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ready:
	case <-time.After(3 * time.Minute):
		p.cmd.Process.Kill()
		t.Fatalf("dev did not become ready:\n%s", p.out)
	}
	if err := waitHTTP(context.Background(), "http://"+p.api+"/readyz", 30*time.Second); err != nil {
		t.Fatalf("readyz: %v\n%s", err, p.out)
	}
	return p
}

// stop sends SIGTERM and checks that nothing is left running or listening.
func (p *devProcess) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("dev exited with %v\n%s", err, p.out)
		}
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("dev did not stop on SIGTERM\n%s", p.out)
	}
	for _, port := range listening(p.ports) {
		t.Errorf("port %d still listening after stop", port)
	}
	if out, _ := exec.Command("pgrep", "-f", filepath.Join(p.dir, "postgres")).Output(); len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("postgres still running after stop: pids %s", out)
	}
}

func (p *devProcess) key(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(p.dir, "dev.env"))
	if err != nil {
		t.Fatal(err)
	}
	env := readEnvFile(filepath.Join(p.dir, "dev.env"))
	for _, k := range []string{"TOLLGATE_API_URL", "TOLLGATE_API_KEY", "DATABASE_URL", "TEMPORAL_ADDRESS"} {
		if env[k] == "" {
			t.Fatalf("dev.env lacks %s:\n%s", k, b)
		}
	}
	return env["TOLLGATE_API_KEY"]
}

func httpJSON(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if key != "" {
		req.Header.Set("X-API-KEY", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestDevMode runs the built binary's dev mode as a new user would and replays the seed 002
// tutorial against it, then checks the Temporal UI and a clean stop, then a second run on the
// same data.
func TestDevMode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the whole system")
	}
	bin, dataDir, ports := devSetup(t)
	p := startDev(t, bin, dataDir, ports)
	key := p.key(t)
	base := "http://" + p.api
	if !strings.Contains(p.out.String(), "curl -s "+base+"/v1/customers -H \"X-API-KEY: "+key+"\"") {
		t.Errorf("summary lacks a working curl line:\n%s", p.out)
	}

	// seed 002 steps 2-5
	if s, b := httpJSON(t, "GET", base+"/v1/customers", key, ""); s != 200 || len(b["data"].([]any)) != 0 {
		t.Fatalf("list: %d %v", s, b)
	}
	if s, b := httpJSON(t, "POST", base+"/v1/customers", key, `{"reference":"superstore-001","type":"ORGANIZATION","email":"invoices@superstore.de","roles":["DEFAULT"],"status":"DRAFT","timezone":"Europe/Berlin","organization":{"legal_name":"SuperStore GmbH","tax_ids":[{"id":"368807022","type":"GENERIC_TAX_ID"}],"registered_address":{"line1":"Hasengarten 14","city":"Berlin","postal_code":"79341","state":"","country":"DE"}}}`); s != 201 || b["reference"] != "superstore-001" {
		t.Fatalf("create: %d %v", s, b)
	}
	if s, b := httpJSON(t, "GET", base+"/v1/customers?reference=superstore-001", key, ""); s != 200 || len(b["data"].([]any)) != 1 {
		t.Fatalf("fetch: %d %v", s, b)
	}
	if s, b := httpJSON(t, "POST", base+"/v1/customers/superstore-001/activate", key, ""); s != 200 || b["status"] != "ACTIVE" {
		t.Fatalf("activate: %d %v", s, b)
	}
	if s, _ := httpJSON(t, "GET", base+"/v1/customers", "", ""); s != 401 {
		t.Fatalf("no key: %d", s)
	}

	// GET /metrics serves every metric the Grafana dashboard queries once a purchase has run
	devPurchase(t, base, key)
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	exposition, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if missing := missingMetrics(string(exposition), dashboardMetrics(t)); resp.StatusCode != 200 || len(missing) > 0 {
		t.Errorf("GET /metrics: %d; the dashboard queries metrics it does not serve: %v", resp.StatusCode, missing)
	}
	if !strings.Contains(string(exposition), `route="POST /v1/activate-plan"`) {
		t.Errorf("no request count for activate-plan:\n%s", exposition)
	}

	// the Temporal UI serves its app and lists a workflow started through the Temporal client
	if resp, err := http.Get(p.ui + "/"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("temporal UI: %v %v", err, resp)
	}
	tc, err := client.Dial(client.Options{HostPort: p.temporal})
	if err != nil {
		t.Fatal(err)
	}
	run, err := tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: "dev-test-smoke", TaskQueue: "dev-test"}, "Smoke")
	tc.Close()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := httpJSON(t, "GET", p.ui+"/api/v1/namespaces/default/workflows", "", "")
		if raw, _ := json.Marshal(body); bytes.Contains(raw, []byte(run.GetID())) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("UI does not list workflow %s: %v", run.GetID(), body)
		}
		time.Sleep(500 * time.Millisecond)
	}
	p.stop(t)

	// a second run reuses the data and the key
	p2 := startDev(t, bin, dataDir, ports)
	if p2.key(t) != key {
		t.Errorf("dev key changed between runs")
	}
	if s, b := httpJSON(t, "GET", base+"/v1/customers?reference=superstore-001", key, ""); s != 200 || len(b["data"].([]any)) != 1 {
		t.Fatalf("data not kept between runs: %d %v", s, b)
	}
	p2.stop(t)
}

// TestDevReportsTakenPort: a taken port is named with the flag that changes it.
func TestDevReportsTakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var out bytes.Buffer
	err = run(context.Background(), []string{"dev", "--data-dir", t.TempDir(), "--addr", ln.Addr().String()},
		func(string) string { return "" }, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "API port "+ln.Addr().String()+" is in use (change it with --addr)") {
		t.Fatalf("got %v", err)
	}
}

// TestDevSIGKILLLeavesNothing: `tollgate dev` killed hard (SIGKILL to the process alone, as the
// OOM killer does) leaves no process of it listening, and the next run on the same data
// directory starts and finds the merchant's key and a purchase made before the kill.
func TestDevSIGKILLLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the whole system")
	}
	bin, dataDir, ports := devSetup(t)
	p := startDev(t, bin, dataDir, ports)
	key := p.key(t)
	base := "http://" + p.api
	purchase := devPurchase(t, base, key)

	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for {
		busy := listening(ports)
		pids, _ := exec.Command("pgrep", "-f", dataDir).Output()
		if len(busy) == 0 && len(bytes.TrimSpace(pids)) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("30 s after SIGKILL: ports %v still listening, processes %q left", busy, pids)
		}
		time.Sleep(200 * time.Millisecond)
	}

	p2 := startDev(t, bin, dataDir, ports)
	if p2.key(t) != key {
		t.Errorf("dev key changed after the kill")
	}
	if s, b := httpJSON(t, "GET", base+"/v1/purchases/"+purchase, key, ""); s != 200 || b["status"] != "active" {
		t.Fatalf("purchase made before the kill: %d %v", s, b)
	}
	p2.stop(t)
}

// devPurchase makes a paid purchase through the API and answers its reference.
func devPurchase(t *testing.T, base, key string) string {
	t.Helper()
	must := func(path, body string) map[string]any {
		t.Helper()
		s, b := httpJSON(t, "POST", base+path, key, body)
		if s >= 300 {
			t.Fatalf("POST %s: %d %v", path, s, b)
		}
		return b
	}
	cus := must("/v1/sdk/customers", `{"email":"kill@acme.com","name":"Kill"}`)["reference"].(string)
	prd := must("/v1/products", `{"name":"kill-bot"}`)["reference"].(string)
	pln := must("/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)["reference"].(string)
	must("/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
	res := must("/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+prd+`","planRef":"`+pln+`"}`)
	pur, _ := res["purchase"].(map[string]any)
	if res["status"] != "activated" || pur == nil {
		t.Fatalf("activate-plan: %v", res)
	}
	return pur["reference"].(string)
}

// listening is the ports of ports that accept connections.
func listening(ports []int) []int {
	var busy []int
	for _, port := range ports {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond); err == nil {
			c.Close()
			busy = append(busy, port)
		}
	}
	return busy
}
