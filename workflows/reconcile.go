package workflows

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"
)

// Reconciliation (DESIGN.md "Operations"): a run compares what each payment processor holds —
// the payments carrying Tollgate's key created since a time, with their refunds — with the
// ledger (transactions), page by page:
//
//	at the processor and in the ledger     matched
//	at the processor, not in the ledger    adopted: recorded once under the processor's id
//	                                       (the charge's own key, so a charge retried under
//	                                       it finds the row and never charges again), and
//	                                       the purchase's workflow gets payment-changed, so a
//	                                       refund made elsewhere reaches its state as the
//	                                       webhook would have brought it
//	in the ledger, not at the processor    flagged (transactions.reconcile_flag), after the
//	                                       processor was asked for it by id
//
// A schedule (ReconcileScheduleID) starts a run daily; `tollgate reconcile` starts one on
// demand. Runs are idempotent: a second run adopts nothing the first adopted.

// ReconcileActivities are the activities of a reconciliation run (activities.Activities
// implements them).
type ReconcileActivities interface {
	// ReconcileProcessors names the processors the worker can list: the sandbox, Stripe when
	// configured, and each merchant's own Stripe account ("stripe:mer_…").
	ReconcileProcessors(ctx context.Context) ([]string, error)
	// ReconcilePage reads one page of the processor's payments and matches or adopts each one
	// and its refunds.
	ReconcilePage(ctx context.Context, in ReconcilePageInput) (ReconcilePageResult, error)
	// ReconcileLedger flags the ledger rows since in.Since that no page found, once the
	// processor, asked for each by id, does not know them either.
	ReconcileLedger(ctx context.Context, in ReconcileLedgerInput) (ReconcileLedgerResult, error)
}

var (
	actReconcileProcessors = activityName(ReconcileActivities.ReconcileProcessors)
	actReconcilePage       = activityName(ReconcileActivities.ReconcilePage)
	actReconcileLedger     = activityName(ReconcileActivities.ReconcileLedger)
)

// DefaultReconcileWindow is how far back a run looks when its input names no time.
const DefaultReconcileWindow = 72 * time.Hour

// ReconcileInput starts a run. Since, when set, is where it starts; else Window (zero:
// DefaultReconcileWindow) before the run's start.
type ReconcileInput struct {
	Since    time.Time     `json:",omitzero"`
	Window   time.Duration `json:",omitempty"`
	PageSize int           `json:",omitempty"` // payments per page; zero: the processor's largest
}

// ReconcileCounts are a run's counts. Seen counts the payments that moved money (succeeded or
// processing) and the succeeded refunds of them; each is then matched, adopted or skipped (its
// purchase is not in this database, e.g. another deployment sharing the Stripe account).
// Flagged counts ledger rows the processor does not know.
type ReconcileCounts struct {
	Seen    int
	Matched int
	Adopted int
	Skipped int
	Flagged int
}

func (c *ReconcileCounts) add(o ReconcileCounts) {
	c.Seen += o.Seen
	c.Matched += o.Matched
	c.Adopted += o.Adopted
	c.Skipped += o.Skipped
	c.Flagged += o.Flagged
}

func (c ReconcileCounts) String() string {
	return fmt.Sprintf("seen %d, matched %d, adopted %d, flagged %d, skipped %d", c.Seen, c.Matched, c.Adopted, c.Flagged, c.Skipped)
}

// ProcessorReconcile is one processor's part of a run.
type ProcessorReconcile struct {
	Processor string
	ReconcileCounts
	Pages int
	Done  bool
}

// ReconcileReport is a run's result, and its progress while it runs (QueryReconcileProgress).
type ReconcileReport struct {
	Since      time.Time
	RunAt      time.Time
	Processors []ProcessorReconcile
	Total      ReconcileCounts
	// AdoptedRefs and FlaggedRefs name the transactions (txn_) adopted and flagged, the first
	// MaxReportRefs of each; the counts are complete.
	AdoptedRefs []string `json:",omitempty"`
	FlaggedRefs []string `json:",omitempty"`
	Done        bool
}

// MaxReportRefs bounds the references a report lists, so a large run keeps a small history.
const MaxReportRefs = 100

type ReconcilePageInput struct {
	Processor string
	Since     time.Time
	RunAt     time.Time // marks the ledger rows found (transactions.reconciled_at)
	Cursor    string
	PageSize  int `json:",omitempty"`
}

// ReconcilePageResult is what one page did; Signals are the payments whose purchases should
// look again (an adoption they may hold state about).
type ReconcilePageResult struct {
	ReconcileCounts
	AdoptedRefs []string       `json:",omitempty"`
	Signals     []PaymentTouch `json:",omitempty"`
	Next        string         `json:",omitempty"`
}

// PaymentTouch names a purchase and one of its payments at the processor.
type PaymentTouch struct {
	PurchaseRef string
	PaymentRef  string
}

type ReconcileLedgerInput struct {
	Processor string
	Since     time.Time
	RunAt     time.Time
}

type ReconcileLedgerResult struct {
	Checked int // ledger rows no page found, asked for by id
	Flagged []string
	Found   int // of those, the processor knew after all (made before Since, or during the run)
}

// reconcileOptions: a page is a few processor calls and a few Postgres writes; a processor
// that is down is waited out for an hour, then the run fails and the next one starts over.
var reconcileOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    5 * time.Minute,
	ScheduleToCloseTimeout: time.Hour,
	RetryPolicy:            paymentRetry,
}

// Reconcile is one reconciliation run.
func Reconcile(ctx workflow.Context, in ReconcileInput) (ReconcileReport, error) {
	r := &reconcile{in: in, log: workflow.GetLogger(ctx)}
	if err := workflow.SetQueryHandler(ctx, QueryReconcileProgress, func() (ReconcileReport, error) { return r.report, nil }); err != nil {
		return r.report, err
	}
	return r.run(workflow.WithActivityOptions(ctx, reconcileOptions))
}

type reconcile struct {
	in     ReconcileInput
	report ReconcileReport
	log    log.Logger
}

func (r *reconcile) run(ctx workflow.Context) (ReconcileReport, error) {
	rep := &r.report
	rep.RunAt = workflow.Now(ctx).UTC()
	rep.Since = r.in.Since
	if rep.Since.IsZero() {
		window := r.in.Window
		if window <= 0 {
			window = DefaultReconcileWindow
		}
		rep.Since = rep.RunAt.Add(-window)
	}
	var names []string
	if err := workflow.ExecuteActivity(ctx, actReconcileProcessors).Get(ctx, &names); err != nil {
		return *rep, err
	}
	for _, name := range names {
		rep.Processors = append(rep.Processors, ProcessorReconcile{Processor: name})
	}
	for i := range rep.Processors {
		if err := r.processor(ctx, i); err != nil {
			return *rep, err
		}
	}
	rep.Done = true
	r.log.Info("reconciliation done", "since", rep.Since, "counts", rep.Total.String(), "flagged", rep.FlaggedRefs)
	return *rep, nil
}

// processor reconciles the i-th processor: its pages, then the ledger rows no page found.
func (r *reconcile) processor(ctx workflow.Context, i int) error {
	rep := &r.report
	p := &rep.Processors[i]
	cursor := ""
	for {
		var page ReconcilePageResult
		err := workflow.ExecuteActivity(ctx, actReconcilePage, ReconcilePageInput{Processor: p.Processor, Since: rep.Since,
			RunAt: rep.RunAt, Cursor: cursor, PageSize: r.in.PageSize}).Get(ctx, &page)
		if err != nil {
			return err
		}
		p.Pages++
		p.add(page.ReconcileCounts)
		rep.Total.add(page.ReconcileCounts)
		rep.AdoptedRefs = appendBounded(rep.AdoptedRefs, page.AdoptedRefs)
		r.touch(ctx, page.Signals)
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	var ledger ReconcileLedgerResult
	err := workflow.ExecuteActivity(ctx, actReconcileLedger, ReconcileLedgerInput{Processor: p.Processor, Since: rep.Since,
		RunAt: rep.RunAt}).Get(ctx, &ledger)
	if err != nil {
		return err
	}
	flagged := ReconcileCounts{Flagged: len(ledger.Flagged)}
	p.add(flagged)
	rep.Total.add(flagged)
	rep.FlaggedRefs = appendBounded(rep.FlaggedRefs, ledger.Flagged)
	if len(ledger.Flagged) > 0 {
		r.log.Warn("ledger rows the processor does not know", "processor", p.Processor, "transactions", ledger.Flagged)
	}
	p.Done = true
	r.log.Info("processor reconciled", "processor", p.Processor, "pages", p.Pages, "counts", p.ReconcileCounts.String())
	return nil
}

// touch tells each purchase about its adopted payment through its own workflow, so its state
// and history see what the ledger now holds. A purchase whose workflow has closed has no state
// to keep: the ledger row is the whole adoption.
func (r *reconcile) touch(ctx workflow.Context, signals []PaymentTouch) {
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	for _, s := range signals {
		err := workflow.SignalExternalWorkflow(ctx, WorkflowID(s.PurchaseRef), "", SignalPaymentChanged,
			PaymentChangedInput{EventID: id, Type: "reconcile.adopted", PaymentRef: s.PaymentRef}).Get(ctx, nil)
		if err != nil {
			r.log.Info("adopted payment: purchase workflow not signalled", "purchase", s.PurchaseRef, "payment", s.PaymentRef,
				"error", err)
		}
	}
}

func appendBounded(dst, src []string) []string {
	return append(dst, src[:min(len(src), max(0, MaxReportRefs-len(dst)))]...)
}
