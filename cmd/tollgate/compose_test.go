package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		DependsOn   any               `yaml:"depends_on"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

// envNamesOf lists the environment variables a subcommand reads, from its --help.
func envNamesOf(t *testing.T, sub string) []string {
	var out bytes.Buffer
	if err := run(context.Background(), []string{sub, "--help"}, func(string) string { return "" }, &out, &out); err != nil && !strings.Contains(err.Error(), "help") {
		t.Fatalf("%s --help: %v", sub, err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`\(env ([A-Z_]+)\)`).FindAllStringSubmatch(out.String(), -1) {
		names = append(names, m[1])
	}
	if len(names) == 0 {
		t.Fatalf("%s --help names no environment variables:\n%s", sub, out.String())
	}
	return names
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	return c
}

// TestComposeMatchesBinary keeps docker-compose.yml honest without a Docker engine: every service
// of the production topology is there, and each tollgate service sets what its subcommand needs
// and nothing the binary does not read.
func TestComposeMatchesBinary(t *testing.T) {
	c := readCompose(t)
	for _, name := range []string{"postgres", "temporal", "temporal-ui", "migrate", "tollgate-api", "tollgate-worker"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("service %s missing", name)
		}
	}
	if db := c.Services["temporal"].Environment["DB"]; db != "postgres12" {
		t.Errorf("temporal must persist to Postgres, DB=%q", db)
	}
	if ui := c.Services["temporal-ui"].Environment["TEMPORAL_ADDRESS"]; ui != "temporal:7233" {
		t.Errorf("temporal-ui points at %q", ui)
	}
	for svc, sub := range map[string]string{"migrate": "migrate", "tollgate-api": "api", "tollgate-worker": "worker"} {
		s := c.Services[svc]
		if s.Build == nil || len(s.Command) == 0 || s.Command[0] != sub {
			t.Errorf("%s must build the binary and run %q, has build=%v command=%v", svc, sub, s.Build, s.Command)
		}
		known := map[string]bool{}
		for _, n := range envNamesOf(t, sub) {
			known[n] = true
		}
		for k := range s.Environment {
			if !known[k] {
				t.Errorf("%s sets %s, which `tollgate %s` does not read", svc, k, sub)
			}
		}
		if !strings.Contains(s.Environment["DATABASE_URL"], "@postgres:5432/") {
			t.Errorf("%s DATABASE_URL does not point at the postgres service: %q", svc, s.Environment["DATABASE_URL"])
		}
		if sub != "migrate" && s.Environment["TEMPORAL_ADDRESS"] != "temporal:7233" {
			t.Errorf("%s TEMPORAL_ADDRESS = %q", svc, s.Environment["TEMPORAL_ADDRESS"])
		}
	}
	api := c.Services["tollgate-api"]
	if api.Environment["TOLLGATE_ADDR"] != "0.0.0.0:8080" || len(api.Ports) == 0 || !strings.HasSuffix(api.Ports[0], ":8080") {
		t.Errorf("tollgate-api must listen on 0.0.0.0:8080 and publish it: %v %v", api.Environment["TOLLGATE_ADDR"], api.Ports)
	}
	docker, err := os.ReadFile("../../Dockerfile")
	if err != nil || !bytes.Contains(docker, []byte("./cmd/tollgate")) {
		t.Errorf("Dockerfile must build ./cmd/tollgate: %v", err)
	}
}

// TestComposeKeepsTemporalPrivate: whoever reaches Temporal's frontend or UI can start and
// signal purchases, so no Temporal service publishes a port on every interface; loopback (an
// operator's SSH tunnel or an authenticating proxy on the host) is the most it may bind.
func TestComposeKeepsTemporalPrivate(t *testing.T) {
	c := readCompose(t)
	seen := 0
	for name, s := range c.Services {
		if !strings.HasPrefix(s.Image, "temporalio/") {
			continue
		}
		seen++
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") && !strings.HasPrefix(p, "[::1]:") {
				t.Errorf("%s publishes %q on every interface; bind it to 127.0.0.1 or drop it", name, p)
			}
		}
	}
	if seen < 2 {
		t.Fatalf("found %d Temporal services in docker-compose.yml, want the server and the UI", seen)
	}
}

// TestComposeConfigValidates asks Docker Compose itself, where it is installed, to parse and
// interpolate the file with the required secrets set, and to refuse it while one is missing.
func TestComposeConfigValidates(t *testing.T) {
	if err := exec.Command("docker", "compose", "version").Run(); err != nil {
		t.Skip("docker compose is not installed here; TestComposeMatchesBinary and TestComposeSecretsAndRoles " +
			"check the parsed file instead, but not compose's own interpolation of the required secrets")
	}
	secrets := []string{"POSTGRES_PASSWORD=p1", "TOLLGATE_MIGRATE_DB_PASSWORD=p2", "TOLLGATE_APP_DB_PASSWORD=p3", "TOLLGATE_WEB_SECRET=s4"}
	config := func(env []string) ([]byte, error) {
		cmd := exec.Command("docker", "compose", "--env-file", os.DevNull, "-f", "../../docker-compose.yml", "config", "-q")
		cmd.Env = append(os.Environ(), env...)
		return cmd.CombinedOutput()
	}
	if out, err := config(secrets); err != nil {
		t.Fatalf("docker compose config: %v\n%s", err, out)
	}
	if out, err := config(append(secrets[:3:3], "TOLLGATE_WEB_SECRET=")); err == nil || !strings.Contains(string(out), "TOLLGATE_WEB_SECRET") {
		t.Errorf("compose accepted the file without TOLLGATE_WEB_SECRET: %v\n%s", err, out)
	}
}

// TestComposeRunsTheTemporalOfTheBinary: compose runs the Temporal server and UI that `tollgate
// dev` embeds (go.mod's versions), set up the way Temporal supports now (the server image, its
// schema by admin-tools; not the retired auto-setup image), and checks the health of the API and
// the worker with `tollgate healthcheck`, which proves they are ready, not that a binary exists.
func TestComposeRunsTheTemporalOfTheBinary(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	version := func(module string) string {
		m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + ` v(\S+)`).FindSubmatch(mod)
		if m == nil {
			t.Fatalf("go.mod does not require %s", module)
		}
		return string(m[1])
	}
	server, ui := version("go.temporal.io/server"), version("github.com/temporalio/ui-server/v2")
	c := readCompose(t)
	for name, want := range map[string]string{"temporal": "temporalio/server:" + server, "temporal-schema": "temporalio/admin-tools:" + server,
		"temporal-setup": "temporalio/admin-tools:" + server, "temporal-ui": "temporalio/ui:" + ui} {
		if got := c.Services[name].Image; got != want {
			t.Errorf("%s runs %q, want %q (the version tollgate dev embeds)", name, got, want)
		}
	}
	for name, s := range c.Services {
		if strings.Contains(s.Image, "auto-setup") {
			t.Errorf("%s uses the retired auto-setup image %s", name, s.Image)
		}
	}
	for svc, want := range map[string]string{"tollgate-api": "healthcheck", "tollgate-worker": "healthcheck --worker"} {
		if got := strings.Join(c.Services[svc].Healthcheck.Test, " "); got != "CMD /usr/local/bin/tollgate "+want {
			t.Errorf("%s health check is %q, want `tollgate %s`", svc, got, want)
		}
	}
}

// dashboardMetrics lists the metrics that deploy/grafana-dashboard.json queries, as their base
// names (a histogram's _bucket, _sum and _count are its own name).
func dashboardMetrics(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("deploy/grafana-dashboard.json: %v", err)
	}
	seen := map[string]bool{}
	var names []string
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			for _, m := range regexp.MustCompile(`\b(?:tollgate|temporal)_[a-z_]+`).FindAllString(target.Expr, -1) {
				m = strings.TrimSuffix(m, "_bucket")
				if !seen[m] {
					seen[m] = true
					names = append(names, m)
				}
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("the dashboard queries no metric")
	}
	return names
}

// missingMetrics is the names of want that the Prometheus text exposition does not hold.
func missingMetrics(exposition string, want []string) []string {
	var missing []string
	for _, name := range want {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(_bucket|_sum|_count)?[{ ]`).MatchString(exposition) {
			missing = append(missing, name)
		}
	}
	return missing
}
