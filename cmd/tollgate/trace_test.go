package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/telemetry"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// TestTraceFromRequestToCharge runs `tollgate api` and `tollgate worker` with tracing on (an
// in-memory span recorder in place of the OTLP exporter), activates a plan with a live key
// (Stripe is stripe-mock) and follows the request's trace: the HTTP server span named by its
// route, the starter's update-with-start, the purchase workflow and, under the activation update,
// the Charge activity with a Postgres query and the call to Stripe beneath it. Then it runs a reconciliation and reads the worker's
// JSON log for a workflow line carrying its WorkflowID.
func TestTraceFromRequestToCharge(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the API and the worker against Postgres, Temporal and stripe-mock")
	}
	rec := tracetest.NewSpanRecorder()
	t.Cleanup(telemetry.Use(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))))

	ctx := context.Background()
	dbURL := testenv.PostgresURL(t)
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	merchant, _ := testenv.Merchant(t, st, "Acme")
	liveKey := domain.NewSecretRef("sk_live")
	if err := st.AddAPIKey(ctx, merchant, liveKey, domain.ModeLive); err != nil {
		t.Fatal(err)
	}
	st.Close()
	env := map[string]string{"DATABASE_URL": dbURL, "TEMPORAL_ADDRESS": testenv.TemporalAddress(t),
		"STRIPE_SECRET_KEY": "sk_test_traceKeyQ2w", "STRIPE_PUBLISHABLE_KEY": "pk_test_TYooMQauvdEDq54NiTphI7jx",
		"STRIPE_API_URL": testenv.StripeMock(t), "TOLLGATE_RECONCILE_EVERY": "0"}
	base, logs, stop := runAPIAndWorker(t, env)
	defer stop()
	call := func(method, path, body string) map[string]any {
		s, b := httpJSON(t, method, base+path, liveKey, body)
		if s >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, s, b)
		}
		return b
	}
	prd, _ := call("POST", "/v1/products", `{"name":"support-bot"}`)["reference"].(string)
	pln, _ := call("POST", "/v1/products/"+prd+"/plans", `{"name":"Pro","type":"recurring","price":4900,"currency":"USD"}`)["reference"].(string)
	cus, _ := call("POST", "/v1/sdk/customers", `{"email":"lee@acme.com","name":"Lee"}`)["reference"].(string)
	call("POST", "/v1/customers/"+cus+"/payment-method", `{"paymentMethod":"pm_card_visa"}`)
	call("POST", "/v1/activate-plan", `{"customerRef":"`+cus+`","productRef":"`+prd+`","planRef":"`+pln+`"}`)

	// the request's server span, named by its route; the workflow's span stays open while the
	// purchase lives, so spans are read as started
	spans := rec.Started()
	i := slices.IndexFunc(spans, func(s sdktrace.ReadWriteSpan) bool {
		return s.Name() == "POST /v1/activate-plan" && s.SpanKind() == trace.SpanKindServer
	})
	if i < 0 {
		t.Fatalf("no server span named after the route POST /v1/activate-plan among %d spans", len(spans))
	}
	traceID := spans[i].SpanContext().TraceID()
	var inTrace []sdktrace.ReadOnlySpan
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		if s.SpanContext().TraceID() == traceID {
			inTrace = append(inTrace, s)
			byID[s.SpanContext().SpanID()] = s
		}
	}
	slices.SortFunc(inTrace, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	depth := func(s sdktrace.ReadOnlySpan) int {
		n := 0
		for p, ok := byID[s.Parent().SpanID()]; ok; p, ok = byID[p.Parent().SpanID()] {
			n++
		}
		return n
	}
	var tree strings.Builder
	for _, s := range inTrace {
		fmt.Fprintf(&tree, "%s%s [%s, %s]\n", strings.Repeat("  ", depth(s)), s.Name(), s.SpanKind(), s.InstrumentationScope().Name)
	}
	t.Logf("trace %s:\n%s", traceID, tree.String())

	// under the Charge activity: a Postgres query and the call to Stripe
	under := func(s sdktrace.ReadOnlySpan, name string) bool {
		for p, ok := byID[s.Parent().SpanID()]; ok; p, ok = byID[p.Parent().SpanID()] {
			if p.Name() == name {
				return true
			}
		}
		return false
	}
	start := "UpdateWithStartWorkflow:activation" // the starter's call: start the purchase, ask for its activation
	want := map[string]func(sdktrace.ReadOnlySpan) bool{
		"the starter's call to Temporal": func(s sdktrace.ReadOnlySpan) bool { return s.Name() == start },
		"the purchase workflow": func(s sdktrace.ReadOnlySpan) bool {
			return s.Name() == "RunWorkflow:"+workflows.PurchaseWorkflow && under(s, start)
		},
		"the Charge activity": func(s sdktrace.ReadOnlySpan) bool {
			return s.Name() == "RunActivity:Charge" && under(s, start)
		},
		"a Postgres query of the Charge activity": func(s sdktrace.ReadOnlySpan) bool {
			return s.InstrumentationScope().Name == "github.com/exaring/otelpgx" && under(s, "RunActivity:Charge")
		},
		"a call to Stripe from the Charge activity": func(s sdktrace.ReadOnlySpan) bool {
			return s.SpanKind() == trace.SpanKindClient && strings.Contains(s.InstrumentationScope().Name, "otelhttp") &&
				under(s, "RunActivity:Charge")
		},
	}
	for what, match := range want {
		if !slices.ContainsFunc(inTrace, match) {
			t.Errorf("the activate-plan trace has no span of %s", what)
		}
	}

	// the worker logs JSON; a workflow's line carries its WorkflowID
	var out strings.Builder
	if err := run(ctx, []string{"reconcile"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
		t.Fatalf("tollgate reconcile: %v\n%s", err, out.String())
	}
	if !workflowLine(logs.String(), "reconciliation done") {
		t.Errorf("no JSON log line \"reconciliation done\" with a WorkflowID in the worker's log:\n%s", logs)
	}
}

// workflowLine reports whether logs hold a JSON line with message msg and a WorkflowID.
func workflowLine(logs, msg string) bool {
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		if id, _ := line["WorkflowID"].(string); line["msg"] == msg && id != "" {
			return true
		}
	}
	return false
}
