package workflows_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/tollgate-billing/tollgate/workflows"
)

// fakeReconcile is a world of two processors: the sandbox answers two pages (one adoption on
// the second, whose purchase is told), Stripe one page, and the ledger holds one row Stripe
// does not know.
type fakeReconcile struct {
	pages  []workflows.ReconcilePageInput
	ledger []workflows.ReconcileLedgerInput
}

func (f *fakeReconcile) ReconcileProcessors(context.Context) ([]string, error) {
	return []string{"sandbox", "stripe"}, nil
}

func (f *fakeReconcile) ReconcilePage(_ context.Context, in workflows.ReconcilePageInput) (workflows.ReconcilePageResult, error) {
	f.pages = append(f.pages, in)
	switch {
	case in.Processor == "sandbox" && in.Cursor == "":
		return workflows.ReconcilePageResult{ReconcileCounts: workflows.ReconcileCounts{Seen: 3, Matched: 3}, Next: "c1"}, nil
	case in.Processor == "sandbox":
		return workflows.ReconcilePageResult{ReconcileCounts: workflows.ReconcileCounts{Seen: 2, Matched: 1, Adopted: 1},
			AdoptedRefs: []string{"txn_adopted"}, Signals: []workflows.PaymentTouch{{PurchaseRef: "pur_a", PaymentRef: "ch_sb_1"}}}, nil
	}
	return workflows.ReconcilePageResult{ReconcileCounts: workflows.ReconcileCounts{Seen: 1, Skipped: 1}}, nil
}

func (f *fakeReconcile) ReconcileLedger(_ context.Context, in workflows.ReconcileLedgerInput) (workflows.ReconcileLedgerResult, error) {
	f.ledger = append(f.ledger, in)
	if in.Processor == "stripe" {
		return workflows.ReconcileLedgerResult{Checked: 2, Found: 1, Flagged: []string{"txn_ghost"}}, nil
	}
	return workflows.ReconcileLedgerResult{}, nil
}

// A run pages through each processor from the window's start, tells the purchase of an adopted
// payment through its workflow (payment-changed), checks each processor's ledger, and answers
// the counts — per processor and in total — as its result and its progress query.
func TestReconcileRunCountsEachProcessor(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	acts := &fakeReconcile{}
	env.RegisterActivity(acts)
	start := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	var signals []workflows.PaymentChangedInput
	var signalled []string
	env.OnSignalExternalWorkflow("default-test-namespace", "purchase/pur_a", "", workflows.SignalPaymentChanged, mockAny).Return(
		func(_, id, _, _ string, arg any) error {
			signalled = append(signalled, id)
			signals = append(signals, arg.(workflows.PaymentChangedInput))
			return nil
		})
	env.ExecuteWorkflow(workflows.Reconcile, workflows.ReconcileInput{Window: 48 * time.Hour})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var rep workflows.ReconcileReport
	if err := env.GetWorkflowResult(&rep); err != nil {
		t.Fatal(err)
	}
	since := start.Add(-48 * time.Hour)
	want := workflows.ReconcileCounts{Seen: 6, Matched: 4, Adopted: 1, Skipped: 1, Flagged: 1}
	if !rep.Done || !rep.Since.Equal(since) || rep.Total != want || len(rep.Processors) != 2 ||
		rep.Processors[0].ReconcileCounts != (workflows.ReconcileCounts{Seen: 5, Matched: 4, Adopted: 1}) || rep.Processors[0].Pages != 2 ||
		rep.Processors[1].ReconcileCounts != (workflows.ReconcileCounts{Seen: 1, Skipped: 1, Flagged: 1}) ||
		!slices.Equal(rep.AdoptedRefs, []string{"txn_adopted"}) || !slices.Equal(rep.FlaggedRefs, []string{"txn_ghost"}) {
		t.Fatalf("report: %+v", rep)
	}
	if len(acts.pages) != 3 || acts.pages[1].Cursor != "c1" || !acts.pages[0].Since.Equal(since) || !acts.pages[0].RunAt.Equal(start) ||
		len(acts.ledger) != 2 || !acts.ledger[1].Since.Equal(since) {
		t.Fatalf("pages %+v, ledger %+v", acts.pages, acts.ledger)
	}
	if len(signals) != 1 || signals[0].PaymentRef != "ch_sb_1" || signals[0].Type != "reconcile.adopted" {
		t.Fatalf("signals to purchases: %v %+v", signalled, signals)
	}
	var progress workflows.ReconcileReport
	if v, err := env.QueryWorkflow(workflows.QueryReconcileProgress); err != nil || v.Get(&progress) != nil ||
		progress.Total != rep.Total || !progress.Done {
		t.Fatalf("progress query: %v %+v", err, progress)
	}
}

// A run given a start time reads from it; a purchase that cannot be signalled (its workflow has
// closed) does not fail the run.
func TestReconcileSinceAndAClosedPurchase(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterActivity(&fakeReconcile{})
	env.OnSignalExternalWorkflow(mockAny, mockAny, mockAny, mockAny, mockAny).Return(errClosed)
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	env.ExecuteWorkflow(workflows.Reconcile, workflows.ReconcileInput{Since: since})
	var rep workflows.ReconcileReport
	if err := env.GetWorkflowResult(&rep); err != nil || !rep.Since.Equal(since) || rep.Total.Adopted != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
}

var mockAny = mock.Anything

var errClosed = errors.New("workflow execution already completed")
