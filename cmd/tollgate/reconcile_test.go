package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments/sandbox"
	"github.com/tollgate-billing/tollgate/workflows"
)

// The worker keeps the reconciliation schedule as configured — created at start, updated when
// the setting changes, removed at 0 — and `tollgate reconcile` runs a reconciliation on it,
// printing the counts and the ledger row the sandbox does not know.
func TestReconcileScheduleAndCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st := testenv.Postgres(t)
	srv := testenv.TemporalServer(t)
	tc := testenv.Temporal(t)
	d := &deps{cfg: config{ReconcileEvery: 24 * time.Hour, ReconcileWindow: 72 * time.Hour},
		log: slog.New(slog.DiscardHandler), store: st, temporal: tc, payments: sandbox.New(st.Pool)}
	every := func() time.Duration {
		t.Helper()
		desc, err := tc.ScheduleClient().GetHandle(ctx, workflows.ReconcileScheduleID).Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if iv := desc.Schedule.Spec.Intervals; len(iv) == 1 {
			return iv[0].Every
		}
		t.Fatalf("schedule spec: %+v", desc.Schedule.Spec)
		return 0
	}
	for _, want := range []time.Duration{24 * time.Hour, 24 * time.Hour, 6 * time.Hour} {
		d.cfg.ReconcileEvery = want
		stop, err := startWorker(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		stop()
		if got := every(); got != want {
			t.Fatalf("schedule every %s, want %s", got, want)
		}
	}
	d.cfg.ReconcileEvery = 0
	stop, err := startWorker(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if _, err := tc.ScheduleClient().GetHandle(ctx, workflows.ReconcileScheduleID).Describe(ctx); err == nil {
		t.Fatal("the schedule is still there with --reconcile-every 0")
	}

	merchant, _ := testenv.Merchant(t, st, "Acme")
	ghost, _, err := st.InsertTransaction(ctx, domain.Transaction{MerchantRef: merchant, Kind: domain.TxnPayment,
		Status: domain.TxnSucceeded, Amount: 900, Currency: "EUR", IdempotencyKey: "ghost", Processor: "sandbox",
		ProcessorRef: "ch_sb_ghost"})
	if err != nil {
		t.Fatal(err)
	}
	stop, err = startWorker(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	var out, errOut bytes.Buffer
	err = run(ctx, []string{"reconcile", "--since", "72h", "--temporal-address", srv.FrontendAddress(),
		"--temporal-namespace", srv.Namespace()}, func(string) string { return "" }, &out, &errOut)
	if err != nil {
		t.Fatalf("reconcile: %v\n%s%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{"reconciliation reconcile/", "started: payments of the last 72h0m0s",
		"sandbox  seen 0, matched 0, adopted 0, flagged 1, skipped 0", "total: seen 0, matched 0, adopted 0, flagged 1, skipped 0",
		"flagged: " + ghost.Ref} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// The report prints the processors' counts as one column, a merchant's own account included.
func TestReconcileReportAlignsTheProcessors(t *testing.T) {
	var out bytes.Buffer
	printReconcileReport(&out, workflows.ReconcileReport{Processors: []workflows.ProcessorReconcile{
		{Processor: "sandbox"}, {Processor: "stripe"}, {Processor: "stripe:mer_8Hq2VdR5kT0pLm3x"}}})
	col := -1
	for _, line := range strings.Split(out.String(), "\n") {
		if i := strings.Index(line, "seen "); strings.HasPrefix(line, "  ") && i > 0 {
			if col >= 0 && i != col {
				t.Fatalf("the counts start in different columns:\n%s", out.String())
			}
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("no processor line:\n%s", out.String())
	}
}
