// Command lifecycle measures the purchase workflows on the embedded Temporal server with one
// worker: purchase activations end to end (starter.Start: catalog reads, update-with-start,
// first charge, projection) and renewals with 10,000 purchases due at once, each beside the
// rate of an empty workflow started and finished on the same server — the server is the
// ceiling on a small box, so the ratio is the figure that travels — with the invoices the
// renewals issued and the PDF render time of up to -pdfs of them. It starts its own
// throwaway Postgres cluster and Temporal server and removes them after.
//
//	go run ./bench/lifecycle [-purchases 10000] [-empty 2000] [-concurrency 32] [-pdfs 1000] [-mem]
//
// The renewals are made due at once with the test clock: every purchase receives an
// advance-clock update past its period end, which the workflow plays exactly as a fired
// period-end timer (one workflow task, the charge activity, one workflow task).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/benchenv"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/pdf"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

type config struct {
	purchases   int
	empty       int
	concurrency int
	memory      bool
	pdfs        int
}

func main() {
	var c config
	flag.IntVar(&c.purchases, "purchases", 10_000, "purchases activated, then renewed all at once")
	flag.IntVar(&c.empty, "empty", 2000, "empty workflows for the baseline rate")
	flag.IntVar(&c.concurrency, "concurrency", 32, "concurrent callers")
	flag.IntVar(&c.pdfs, "pdfs", 1000, "invoices rendered as PDF for the render time (0: none)")
	flag.BoolVar(&c.memory, "mem", false, "keep the Temporal server's SQLite in memory (default: a file, as tollgate dev)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench lifecycle:", err)
		os.Exit(1)
	}
}

type result struct {
	name  string
	count int
	took  time.Duration
}

func (r result) rate() float64 { return float64(r.count) / r.took.Seconds() }

func run(ctx context.Context, c config, out io.Writer) error {
	env, err := startEnv(ctx, c)
	if err != nil {
		return err
	}
	defer env.Stop()
	fmt.Fprintf(out, "lifecycle bench: embedded Temporal (%s), one worker, %d CPUs, load %s\n", env.Mode, runtime.NumCPU(), benchenv.LoadAvg())

	empty, err := env.emptyWorkflows(ctx, c)
	if err != nil {
		return fmt.Errorf("empty workflows: %w", err)
	}
	fmt.Fprintf(out, "  empty workflows: %d in %.1fs\n", empty.count, empty.took.Seconds())
	states, activation, err := env.activate(ctx, c)
	if err != nil {
		return fmt.Errorf("activations: %w", err)
	}
	fmt.Fprintf(out, "  activations: %d in %.1fs\n", activation.count, activation.took.Seconds())
	renewal, invoices, err := env.renewAll(ctx, c, states)
	if err != nil {
		return fmt.Errorf("renewals: %w", err)
	}
	if err := env.checkLedger(ctx, 2*len(states)); err != nil {
		return err
	}
	renders, err := env.renderPDFs(ctx, c.pdfs)
	if err != nil {
		return fmt.Errorf("pdf: %w", err)
	}

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "metric\tcount\tseconds\tper second\tvs empty workflow\t")
	for _, r := range []result{empty, activation, renewal, invoices} {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.2f\t\n", r.name, r.count, r.took.Seconds(), r.rate(), r.rate()/empty.rate())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(renders) > 0 {
		fmt.Fprintf(out, "PDF render (pdf.Invoice with a 256×256 PNG logo, %d renewal invoices): p50 %s  p99 %s  max %s\n", len(renders),
			ms(benchenv.Percentile(renders, 50)), ms(benchenv.Percentile(renders, 99)), ms(renders[len(renders)-1]))
	}
	fmt.Fprintf(out, "load average at the end (1, 5, 15 min): %s — on a shared box the figures are bound by it\n", benchenv.LoadAvg())
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// renderPDFs renders up to n of the issued invoices (read first, not timed) as the API's PDF
// route does, and answers each render's time, sorted.
func (e *env) renderPDFs(ctx context.Context, n int) ([]time.Duration, error) {
	if n <= 0 {
		return nil, nil
	}
	var invoices []domain.Invoice
	for p := 1; len(invoices) < n; p++ {
		list, _, err := e.Store.ListInvoices(ctx, e.merchant, store.InvoiceFilter{Mode: domain.ModeSandbox},
			store.Page{Page: p, Limit: min(n, 100)})
		if err != nil {
			return nil, err
		}
		if len(list) == 0 {
			break
		}
		for _, inv := range list[:min(len(list), n-len(invoices))] {
			full, err := e.Store.GetInvoice(ctx, e.merchant, inv.Mode, inv.Ref) // with its lines, as the PDF route reads it
			if err != nil {
				return nil, err
			}
			invoices = append(invoices, full)
		}
	}
	logo, err := benchLogo()
	if err != nil {
		return nil, err
	}
	took := make([]time.Duration, 0, len(invoices))
	for _, inv := range invoices {
		began := time.Now()
		if _, err := pdf.Invoice(inv, logo); err != nil {
			return nil, err
		}
		took = append(took, time.Since(began))
	}
	benchenv.Percentile(took, 50) // sorts
	return took, nil
}

// benchLogo is a 256×256 PNG, the size of a merchant's logo.
func benchLogo() (*pdf.Logo, error) {
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for y := range 256 {
		for x := range 256 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return &pdf.Logo{Bytes: b.Bytes(), Type: "png"}, nil
}

type env struct {
	*benchenv.Env
	c        *starter.Client
	merchant string
	plan     domain.Plan
}

func startEnv(ctx context.Context, c config) (_ *env, err error) {
	be, err := benchenv.Start(ctx, benchenv.Options{Name: "lifecycle", MemoryTemporal: c.memory})
	if err != nil {
		return nil, err
	}
	e := &env{Env: be, c: starter.New(be.Client, be.Store)}
	defer func() {
		if err != nil {
			e.Stop()
		}
	}()
	m, _, err := e.Store.CreateMerchant(ctx, "Bench")
	if err != nil {
		return nil, err
	}
	e.merchant = m.Ref
	prd, err := e.Store.CreateProduct(ctx, domain.Product{MerchantRef: m.Ref, Name: "Bench API"})
	if err != nil {
		return nil, err
	}
	if e.plan, err = e.Store.CreatePlan(ctx, domain.Plan{MerchantRef: m.Ref, ProductRef: prd.Ref, Name: "Monthly",
		Type: domain.PlanRecurring, Price: 1500}); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *env) emptyWorkflows(ctx context.Context, c config) (result, error) {
	took, err := e.EmptyWorkflows(ctx, "lifecycle", c.empty, c.concurrency)
	return result{"empty workflow, start to finish", c.empty, took}, err
}

// activate creates the customers with a card, then activates a purchase for each through the
// starter, as the API does.
func (e *env) activate(ctx context.Context, c config) ([]workflows.State, result, error) {
	customers := make([]string, c.purchases)
	err := benchenv.Parallel(ctx, c.purchases, 16, func(i int) error {
		cus, err := e.Store.CreateCustomer(ctx, domain.Customer{MerchantRef: e.merchant})
		if err != nil {
			return err
		}
		customers[i] = cus.Ref
		_, err = testenv.AttachCard(ctx, e.Store, e.Sandbox, e.merchant, cus.Ref, "pm_card_visa")
		return err
	})
	if err != nil {
		return nil, result{}, err
	}
	states := make([]workflows.State, c.purchases)
	began := time.Now()
	err = benchenv.Parallel(ctx, c.purchases, c.concurrency, func(i int) error {
		ref := domain.NewRef(domain.PrefixPurchase) // fixed, so a retried start finds the same purchase
		var s workflows.State
		err := benchenv.Retry(ctx, func() (err error) {
			s, err = e.c.Start(ctx, starter.StartInput{MerchantRef: e.merchant, CustomerRef: customers[i], PlanRef: e.plan.Ref,
				PurchaseRef: ref})
			return err
		})
		if err == nil && s.Status != domain.PurchaseActive {
			err = fmt.Errorf("purchase %s is %s after activation", s.PurchaseRef, s.Status)
		}
		states[i] = s
		return err
	})
	return states, result{"purchase activation, end to end", c.purchases, time.Since(began)}, err
}

// renewAll makes every purchase due at once and measures until every projection shows period 2.
// Beside it, the invoices the renewals issued: counted in Postgres over the same window.
func (e *env) renewAll(ctx context.Context, c config, states []workflows.State) (result, result, error) {
	began := time.Now()
	err := benchenv.Parallel(ctx, len(states), c.concurrency, func(i int) error {
		return benchenv.Retry(ctx, func() error {
			_, err := e.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID: workflows.WorkflowID(states[i].PurchaseRef), UpdateName: workflows.UpdateAdvanceClock,
				UpdateID:     "bench-renewal", // a retry is the same update
				Args:         []any{workflows.AdvanceClockInput{To: states[i].PeriodEnd.Add(time.Minute)}},
				WaitForStage: client.WorkflowUpdateStageAccepted})
			return err
		})
	})
	if err != nil {
		return result{}, result{}, err
	}
	for {
		var renewed int
		if err := e.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM purchases WHERE merchant_id = $1 AND period >= 2`,
			e.merchant).Scan(&renewed); err != nil {
			return result{}, result{}, err
		}
		if renewed == len(states) {
			break
		}
		select {
		case <-ctx.Done():
			return result{}, result{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	took := time.Since(began)
	var issued int
	if err := e.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE merchant_id = $1 AND created_at >= $2
		AND created_at <= $3`, e.merchant, began, began.Add(took)).Scan(&issued); err != nil {
		return result{}, result{}, err
	}
	return result{fmt.Sprintf("renewal, %d due at once", len(states)), len(states), took},
		result{"invoices issued during the renewals", issued, took}, nil
}

// checkLedger confirms the processor charged exactly once per purchase and period.
func (e *env) checkLedger(ctx context.Context, want int) error {
	var charges, keys int
	if err := e.Store.Pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT idempotency_key) FROM sandbox_charges
		WHERE status = 'succeeded'`).Scan(&charges, &keys); err != nil {
		return err
	}
	if charges != want || keys != want {
		return fmt.Errorf("ledger holds %d charges under %d keys, want %d", charges, keys, want)
	}
	return nil
}
