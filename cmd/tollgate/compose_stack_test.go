package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/internal/testenv"
)

// TestComposeStackRunsSeed002 is the first deployment as an operator makes it: `docker compose up`
// builds and starts the stack, `docker compose run --rm tollgate-api merchants create` makes a
// merchant, and seed 002's tutorial, as printed, runs against the published API. It needs a
// Docker daemon; without one it skips, and TestComposeMatchesBinary, TestComposeSecretsAndRoles
// and TestComposeRunsTheTemporalOfTheBinary check the file itself.
func TestComposeStackRunsSeed002(t *testing.T) {
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Skipf("no Docker daemon here (`docker info`: %v), so the stack is not brought up; "+
			"the compose file is checked by the tests that parse it", lastLine(out, err))
	}
	if testing.Short() {
		t.Skip("-short: building and starting the compose stack takes minutes")
	}
	project := fmt.Sprintf("tollgate-test-%d", os.Getpid())
	env := append(os.Environ(), "POSTGRES_PASSWORD=pg-"+project, "TOLLGATE_MIGRATE_DB_PASSWORD=mig-"+project,
		"TOLLGATE_APP_DB_PASSWORD=app-"+project, "TOLLGATE_WEB_SECRET=web-secret-of-at-least-32-bytes-"+project)
	compose := func(args ...string) ([]byte, error) {
		cmd := exec.Command("docker", append([]string{"compose", "-p", project, "-f", "../../docker-compose.yml"}, args...)...)
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if err != nil {
			err = fmt.Errorf("docker compose %s: %w\n%s", strings.Join(args, " "), err, errOut.String())
		}
		return out.Bytes(), err
	}
	t.Cleanup(func() {
		if _, err := compose("down", "--volumes", "--remove-orphans"); err != nil {
			t.Log(err)
		}
	})
	if _, err := compose("up", "--detach", "--build", "--wait", "--wait-timeout", "600"); err != nil {
		logs, _ := compose("logs", "--tail", "50")
		t.Fatalf("%v\n%s", err, logs)
	}

	out, err := compose("run", "--rm", "-T", "tollgate-api", "merchants", "create", "--name", "Compose test", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var made struct {
		Merchant struct{ Ref string }
		Keys     []struct{ Mode, Secret string }
	}
	if err := json.Unmarshal(out, &made); err != nil {
		t.Fatalf("merchants create --json printed %q: %v", out, err)
	}
	key := ""
	for _, k := range made.Keys {
		if k.Mode == "sandbox" {
			key = k.Secret
		}
	}
	if made.Merchant.Ref == "" || !strings.HasPrefix(key, "sk_sandbox_") {
		t.Fatalf("merchants create printed no merchant or sandbox key: %s", out)
	}

	raw, err := os.ReadFile("../../api/testdata/seed002_commands.txt")
	if err != nil {
		t.Fatal(err)
	}
	var last []byte
	for _, c := range testenv.TranscriptCommands(t, string(raw)) {
		c = strings.ReplaceAll(strings.ReplaceAll(c, "https://test.api.solvimon.com", "http://127.0.0.1:8080"), "<apiKey>", key)
		if last, err = exec.Command("bash", "-c", c).Output(); err != nil {
			t.Fatalf("%s\n%v", c, err)
		}
	}
	var activated struct{ Status, Reference string }
	if err := json.Unmarshal(last, &activated); err != nil || activated.Status != "ACTIVE" || activated.Reference != "superstore-001" {
		t.Fatalf("seed 002's last step answered %s (%v), want the customer ACTIVE", last, err)
	}
}

// lastLine is the last line of a failed command's output (docker's reason), or its error.
func lastLine(out []byte, err error) string {
	if s := strings.TrimSpace(string(out)); s != "" {
		return s[strings.LastIndex(s, "\n")+1:]
	}
	return err.Error()
}
