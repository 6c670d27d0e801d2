package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/internal/telemetry"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/workflows"
)

// runReconcile starts a reconciliation run on the workers (the workflow the schedule starts
// daily) and prints its progress, then its counts and the transactions adopted and flagged.
func runReconcile(ctx context.Context, args []string, e env) error {
	var c config
	var since time.Duration
	fs := newFlagSet("reconcile", "Reconcile the payment processors' payments and refunds that carry Tollgate's key with the\n"+
		"ledger, now: a run of the reconciliation workflow on the workers (the one the schedule starts).\n"+
		"What the ledger missed is adopted, never charged again; ledger rows the processor does not\n"+
		"know are flagged. Prints the progress, then the counts.", e)
	durFlag(fs, e, &since, "since", "TOLLGATE_RECONCILE_SINCE", workflows.DefaultReconcileWindow,
		"look at the processors' payments created this long ago or later")
	c.bindTemporal(fs, e)
	c.bindTemporalTLS(fs, e)
	c.bindLog(fs, e, telemetry.LogText)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.checkLog(); err != nil {
		return err
	}
	if since <= 0 {
		return fmt.Errorf("--since must be a positive duration, e.g. 72h")
	}
	tc, err := dialTemporal(ctx, c, c.logger(e))
	if err != nil {
		return err
	}
	defer tc.Close()
	st := starter.New(tc, nil)
	run, err := st.Reconcile(ctx, workflows.ReconcileInput{Window: since})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "reconciliation %s started: payments of the last %s\n", run.GetID(), since)
	type result struct {
		rep workflows.ReconcileReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.err = run.Get(ctx, &r.rep)
		done <- r
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := ""
	for {
		select {
		case r := <-done:
			if r.err != nil {
				return fmt.Errorf("reconciliation %s: %w", run.GetID(), r.err)
			}
			printReconcileReport(e.stdout, r.rep)
			return nil
		case <-tick.C:
			rep, err := st.ReconcileProgress(ctx, run.GetID())
			if err != nil { // not picked up by a worker yet
				continue
			}
			if line := reconcileProgress(rep); line != last {
				fmt.Fprintln(e.stdout, line)
				last = line
			}
		}
	}
}

// reconcileProgress is one line of a run's progress: each processor's pages and counts so far.
func reconcileProgress(rep workflows.ReconcileReport) string {
	var parts []string
	for _, p := range rep.Processors {
		state := "reading"
		if p.Done {
			state = "done"
		}
		parts = append(parts, fmt.Sprintf("%s %s (%d pages): %s", p.Processor, state, p.Pages, p.ReconcileCounts))
	}
	if len(parts) == 0 {
		return "  starting…"
	}
	return "  " + strings.Join(parts, "; ")
}

func printReconcileReport(w io.Writer, rep workflows.ReconcileReport) {
	fmt.Fprintf(w, "reconciled payments since %s\n", rep.Since.Format(time.RFC3339))
	width := 8 // the processors' names as one column: a merchant's own account is stripe:mer_…
	for _, p := range rep.Processors {
		width = max(width, len(p.Processor))
	}
	for _, p := range rep.Processors {
		fmt.Fprintf(w, "  %-*s %s\n", width, p.Processor, p.ReconcileCounts)
	}
	fmt.Fprintf(w, "total: %s\n", rep.Total)
	for _, l := range []struct {
		what string
		refs []string
		n    int
	}{{"adopted", rep.AdoptedRefs, rep.Total.Adopted}, {"flagged", rep.FlaggedRefs, rep.Total.Flagged}} {
		if l.n == 0 {
			continue
		}
		more := ""
		if l.n > len(l.refs) {
			more = fmt.Sprintf(" (and %d more)", l.n-len(l.refs))
		}
		fmt.Fprintf(w, "%s: %s%s\n", l.what, strings.Join(l.refs, " "), more)
	}
}
