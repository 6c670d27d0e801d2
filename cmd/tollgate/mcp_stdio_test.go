package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMCPStdoutIsProtocolOnly runs `tollgate mcp` as a desktop assistant does, with debug
// logging, through a handshake, the tool list and a tool call: every line on stdout is a
// JSON-RPC message, the logs go to stderr and never carry the API key.
func TestMCPStdoutIsProtocolOnly(t *testing.T) {
	const key = "sk_sandbox_stdioKeyW4v"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-KEY") != key {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/sdk/merchant" {
			_, _ = w.Write([]byte(`{"reference":"mer_1","name":"Acme"}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"type":"not_found_error","code":"RESOURCE_NOT_FOUND","message":"no such customer"}}`))
	}))
	defer api.Close()

	cmd := exec.Command(os.Args[0], "mcp", "--api-url", api.URL, "--log-level", "debug")
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "TOLLGATE_API_KEY="+key)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var stdout strings.Builder
	ids := map[float64]bool{}
	// await reads stdout until the answer with id arrives, checking every line on the way.
	await := func(id float64) {
		t.Helper()
		for !ids[id] {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("stdout closed before answer %v\nstderr:\n%s", id, &stderr)
				}
				stdout.WriteString(line + "\n")
				var msg struct {
					JSONRPC string   `json:"jsonrpc"`
					ID      *float64 `json:"id"`
				}
				if err := json.Unmarshal([]byte(line), &msg); err != nil || msg.JSONRPC != "2.0" {
					t.Errorf("stdout line is not a JSON-RPC message: %q", line)
				} else if msg.ID != nil {
					ids[*msg.ID] = true
				}
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("no answer %v within 30s\nstdout:\n%s\nstderr:\n%s", id, &stdout, &stderr)
			}
		}
	}
	send := func(msg string) { _, _ = io.WriteString(stdin, msg+"\n") }
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}`)
	await(1)
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	await(2)
	send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_customer","arguments":{"customerRef":"cus_nope"}}}`)
	await(3)
	stdin.Close()
	for line := range lines {
		t.Errorf("stdout after the last answer: %q", line)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("tollgate mcp exited with %v\nstderr:\n%s", err, &stderr)
	}

	if !strings.Contains(stderr.String(), "MCP server on stdio") {
		t.Errorf("the startup log is not on stderr:\n%s", &stderr)
	}
	if strings.Contains(stderr.String(), key) || strings.Contains(stdout.String(), key) {
		t.Errorf("the API key was printed:\nstdout:\n%s\nstderr:\n%s", stdout.String(), &stderr)
	}
}
