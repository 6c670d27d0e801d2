package devenv

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

func greet(_ workflow.Context, name string) (string, error) { return "hello " + name, nil }

func startTestTemporal(t *testing.T, cfg TemporalConfig) *Temporal {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	begin := time.Now()
	srv, err := StartTemporal(ctx, cfg)
	if err != nil {
		t.Fatalf("StartTemporal: %v", err)
	}
	t.Logf("Temporal ready in %v at %s (UI %q)", time.Since(begin).Round(time.Millisecond), srv.FrontendAddress(), srv.UIAddress())
	t.Cleanup(srv.Stop)
	return srv
}

func dialTest(t *testing.T, srv *Temporal) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  srv.FrontendAddress(),
		Namespace: srv.Namespace(),
		Logger:    sdklog.NewStructuredLogger(Quiet(slog.New(slog.NewTextHandler(os.Stderr, nil)))),
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestTemporalDevServer runs a workflow, finds it through the UI's JSON API and by search
// attribute, then restarts the server on the same data directory and finds its history again.
func TestTemporalDevServer(t *testing.T) {
	dir := t.TempDir()
	srv := startTestTemporal(t, TemporalConfig{DataDir: dir})
	c := dialTest(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	w := worker.New(c, "devenv-test", worker.Options{})
	w.RegisterWorkflow(greet)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "greet/1",
		TaskQueue: "devenv-test",
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword("CustomerRef").ValueSet("cus_test"),
			temporal.NewSearchAttributeKeyTime("NextBillingAt").ValueSet(time.Now().Add(time.Hour)),
		),
	}, greet, "tollgate")
	if err != nil {
		t.Fatalf("start workflow: %v", err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != "hello tollgate" {
		t.Fatalf("workflow result = %q, %v", got, err)
	}

	t.Run("search attributes registered", func(t *testing.T) {
		resp, err := c.OperatorService().ListSearchAttributes(ctx,
			&operatorservice.ListSearchAttributesRequest{Namespace: srv.Namespace()})
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range SearchAttributes {
			if have := resp.GetCustomAttributes()[name]; have != want {
				t.Errorf("search attribute %s = %s, want %s", name, have, want)
			}
		}
	})

	t.Run("UI lists the workflow", func(t *testing.T) {
		if !strings.HasPrefix(srv.UIAddress(), "http://127.0.0.1:") {
			t.Fatalf("UIAddress = %q", srv.UIAddress())
		}
		list := srv.UIAddress() + "/api/v1/namespaces/default/workflows"
		byCustomer := list + "?" + url.Values{"query": {`CustomerRef = "cus_test"`}}.Encode()
		for _, u := range []string{list, byCustomer} {
			// Visibility is written asynchronously after the workflow closes, so poll briefly.
			deadline := time.Now().Add(15 * time.Second)
			for {
				ids, err := uiWorkflowIDs(u)
				if err == nil && len(ids) == 1 && ids[0] == "greet/1" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("GET %s: workflows %v, %v; want [greet/1]", u, ids, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	})

	t.Run("UI answers only to its own host names", func(t *testing.T) {
		port := strings.TrimPrefix(srv.UIAddress(), "http://127.0.0.1:")
		list := srv.UIAddress() + "/api/v1/namespaces/default/workflows"
		for _, tc := range []struct {
			host, origin string
			want         int
		}{
			{"127.0.0.1:" + port, "", http.StatusOK},
			{"localhost:" + port, "http://localhost:" + port, http.StatusOK},
			{"rebind.example:" + port, "", http.StatusForbidden},                         // DNS rebinding: same origin, foreign name
			{"127.0.0.1:" + port, "http://rebind.example:" + port, http.StatusForbidden}, // a foreign page's request
		} {
			req, _ := http.NewRequest(http.MethodGet, list, nil)
			req.Host = tc.host
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("Host %s Origin %q: %d, want %d", tc.host, tc.origin, resp.StatusCode, tc.want)
			}
		}
	})

	w.Stop()
	c.Close()
	srv.Stop()

	srv2 := startTestTemporal(t, TemporalConfig{DataDir: dir, UIPort: -1})
	if srv2.UIAddress() != "" {
		t.Errorf("UIAddress with UIPort -1 = %q, want empty", srv2.UIAddress())
	}
	c2 := dialTest(t, srv2)
	desc, err := c2.DescribeWorkflowExecution(ctx, "greet/1", "")
	if err != nil {
		t.Fatalf("describe after restart: %v", err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Errorf("status after restart = %s", st)
	}
	events := 0
	iter := c2.GetWorkflowHistory(ctx, "greet/1", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		if _, err := iter.Next(); err != nil {
			t.Fatalf("history after restart: %v", err)
		}
		events++
	}
	if events < 5 { // started, task scheduled/started/completed, completed
		t.Errorf("history after restart has %d events, want >= 5", events)
	}
}

// uiWorkflowIDs asks the UI's JSON API for workflows, as the browser does.
func uiWorkflowIDs(u string) ([]string, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Executions []struct {
			Execution struct {
				WorkflowID string `json:"workflowId"`
			} `json:"execution"`
		} `json:"executions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range body.Executions {
		ids = append(ids, e.Execution.WorkflowID)
	}
	return ids, nil
}

func TestTemporalPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	for _, tc := range []struct {
		cfg  TemporalConfig
		want []string
	}{
		{TemporalConfig{FrontendPort: port, UIPort: -1}, []string{"temporal frontend port", strconv.Itoa(port), "--temporal-port"}},
		{TemporalConfig{UIPort: port}, []string{"temporal UI port", strconv.Itoa(port), "--ui-port"}},
	} {
		srv, err := StartTemporal(context.Background(), tc.cfg)
		if err == nil {
			srv.Stop()
			t.Fatalf("StartTemporal(%+v) succeeded on a taken port", tc.cfg)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
	}
}

// TestTemporalAddsNewSearchAttributes covers a data directory made before an attribute existed:
// the namespace is already there, so only ensureSearchAttributes can register the newcomer.
func TestTemporalAddsNewSearchAttributes(t *testing.T) {
	dir := t.TempDir()
	saved := SearchAttributes
	SearchAttributes = maps.Clone(saved)
	delete(SearchAttributes, "MerchantRef")
	old := startTestTemporal(t, TemporalConfig{DataDir: dir, UIPort: -1})
	old.Stop()
	SearchAttributes = saved

	srv := startTestTemporal(t, TemporalConfig{DataDir: dir, UIPort: -1})
	resp, err := dialTest(t, srv).OperatorService().ListSearchAttributes(context.Background(),
		&operatorservice.ListSearchAttributesRequest{Namespace: srv.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetCustomAttributes()["MerchantRef"]; got != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
		t.Errorf("MerchantRef after restart = %s, want keyword", got)
	}
}
