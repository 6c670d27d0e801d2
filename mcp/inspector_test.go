package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/mcp"
)

// A client nobody here wrote: the MCP Inspector's CLI (npm @modelcontextprotocol/inspector,
// pinned in tools/inspector) lists the tools and calls check_limits over Streamable HTTP with
// the merchant's key.
func TestInspectorCLI(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the MCP Inspector CLI test needs Node.js (apt-get install nodejs)")
	}
	bin, err := filepath.Abs("../tools/inspector/node_modules/.bin/mcp-inspector")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skip("the MCP Inspector is not installed: run scripts/install-inspector.sh (npm ci --prefix tools/inspector)")
	}
	w := newWorld(t)
	cs := w.overHTTP(w.key)
	bob := ok(t, cs, "ensure_customer", map[string]any{"email": "bob@startup.io", "name": "Bob"}).str("reference")
	product := ok(t, cs, "create_product", map[string]any{"name": "support-bot"}).str("reference")
	ok(t, cs, "create_plan", map[string]any{"productRef": product, "name": "Free", "type": "free", "freeUnits": 100,
		"limit": 100, "isDefault": true})

	inspector := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		all := append([]string{"--cli", w.hs.URL + mcp.Path, "--transport", "http", "--header", "X-API-KEY: " + w.key}, args...)
		cmd := exec.CommandContext(ctx, bin, all...)
		cmd.Env = append(os.Environ(), "NO_COLOR=1", "DO_NOT_TRACK=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("mcp-inspector %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, stderr.String())
		}
		if stderr.Len() > 0 {
			t.Logf("mcp-inspector %s (stderr): %s", args[1], stderr.String())
		}
		// The CLI prints the JSON answer, possibly after notices: start at the first brace.
		if i := strings.IndexByte(string(out), '{'); i > 0 {
			out = out[i:]
		}
		return out
	}

	var list struct {
		Tools []struct{ Name string } `json:"tools"`
	}
	if out := inspector("--method", "tools/list", "--strict"); json.Unmarshal(out, &list) != nil || len(list.Tools) != len(designTools) {
		t.Fatalf("tools/list: %s", out)
	}

	var res struct {
		IsError           bool `json:"isError"`
		StructuredContent struct {
			WithinLimits bool  `json:"withinLimits"`
			Used         int64 `json:"used"`
			Remaining    int64 `json:"remaining"`
		} `json:"structuredContent"`
		Content []struct{ Text string } `json:"content"`
	}
	out := inspector("--method", "tools/call", "--tool-name", "check_limits",
		"--tool-arg", "customerRef="+bob, "--tool-arg", "productRef="+product)
	if err := json.Unmarshal(out, &res); err != nil || res.IsError || !res.StructuredContent.WithinLimits ||
		res.StructuredContent.Remaining != 100 || len(res.Content) == 0 {
		t.Fatalf("tools/call check_limits: %s", out)
	}
	mustContain(t, "inspector check_limits", res.Content[0].Text, "The customer has used 0 of 100 free requests this period.")
}
