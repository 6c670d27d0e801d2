package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/domain"
)

// RefundWindow is how long after a payment the processor still refunds it (Stripe: 180 days for
// card payments). The state keeps the payments that young; older ones live in Postgres only
// (transactions), so a purchase that renews for years keeps a bounded state, query answer and
// continue-as-new input.
const RefundWindow = domain.RefundWindow

// keptPeriods is how many periods back a payment recorded without PaidAt (before it was kept)
// stays in the state.
const keptPeriods = 12

// forgetOldPayments drops the payments past the refund window, and the refunds of them, at a
// period boundary. Totals (PaidTotal, RefundedTotal) keep counting everything.
func (p *purchase) forgetOldPayments(ctx workflow.Context, now time.Time) {
	if workflow.GetVersion(ctx, changeBoundedPayments, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	s := &p.state
	var kept []Payment
	dropped := map[string]bool{}
	for _, pay := range s.Payments {
		old := pay.Period < s.Period-keptPeriods
		if !pay.PaidAt.IsZero() {
			old = now.Sub(pay.PaidAt) > RefundWindow
		}
		if old {
			dropped[pay.TxnRef] = true
			continue
		}
		kept = append(kept, pay)
	}
	if len(dropped) == 0 {
		return
	}
	var refunds []Refund
	for _, r := range s.Refunds {
		if !dropped[r.SourceRef] {
			refunds = append(refunds, r)
		}
	}
	s.Payments, s.Refunds = kept, refunds
}
