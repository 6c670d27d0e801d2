package workflows

// Change IDs for workflow.GetVersion. Every change to the workflow that alters its command
// sequence gets one here, with the date it shipped; the replay test (testdata/) proves that
// histories recorded before it still replay. Remove a change ID only when no open workflow and
// no retained history can predate it.
const (
	// changeFinalUsage (2026-11): a usage-based or hybrid purchase cancelled at period end bills
	// the overage of its last period. Histories before it ended without that charge.
	changeFinalUsage = "final-usage-at-cancel"
	// changeAnchoredPeriods (2026-11): every period end is the purchase's anchor plus n cycles
	// (Jan 31 → Feb 28 → Mar 31), on the customer's calendar. Histories before it chained each
	// end to the previous one.
	changeAnchoredPeriods = "anchored-periods"
	// changeBoundedPayments (2026-11): at each period boundary the state forgets payments past
	// the refund window (and their refunds). Histories before it kept every payment.
	changeBoundedPayments = "bounded-payments"
	// changeChargeRounds (2026-11): a charge picks its card first (a local activity), runs in
	// bounded rounds without the mutex, and waits out faults instead of failing (charging.go).
	// Histories before it charge under the mutex with unbounded retries.
	changeChargeRounds = "charge-rounds"
	// changePlanInPlace (2026-12): change-plan changes the plan inside this workflow, prorated
	// (planchange.go). Histories before it ended the purchase and the starter started another.
	changePlanInPlace = "plan-change-in-place"
	// changeMinimumCharge (2026-12): a charge below the processor's minimum for the currency is
	// not sent but carried to the next one (State.Carried). Histories before it sent every
	// amount above zero.
	changeMinimumCharge = "minimum-charge"
	// changeCheckedOverage (2026-12): overage is computed with checked arithmetic; an overage
	// that overflows is refused (not charged, audited) instead of wrapping. Histories before it
	// multiplied unchecked.
	changeCheckedOverage = "checked-overage"
	// changeProcessorEvents (2026-11): a purchase acts on payment-changed signals (processor
	// webhooks: settlements, refunds made elsewhere, disputes). A history recorded before it
	// that holds such a signal replays with the signal ignored, as it was then.
	changeProcessorEvents = "processor-events"
	// changeUsageAtChange (2026-12): a change made now bills the old plan's metered overage up to
	// the change with the change (a usage bill of its own). Histories before it left that usage to
	// the next renewal, at the new plan's prices.
	changeUsageAtChange = "usage-at-change"
	// changeRefundsForLife (2026-12): a refund of a payment the state no longer holds is made
	// from Postgres (the refund activity reads the payment), and one past the processor's
	// refund window is refused first. Histories before it refused the first and never checked
	// the second.
	changeRefundsForLife = "refunds-for-life"
	// changeAuthentication (2026-12): a payment-changed signal about the payment a past-due
	// purchase waits for the customer to authenticate (3-D Secure) refetches it and, succeeded,
	// pays the period with it. Histories before it ignored a signal about a declined payment.
	changeAuthentication = "payment-authentication"
	// changePauseCollection (2026-12): a purchase can be paused and resumed (pause.go). It
	// marks the histories that paused; histories before it never did, so nothing else branches.
	changePauseCollection = "pause-collection"
	// changeFirstAuthentication (2026-12): a first payment the bank wants authenticated (3-D
	// Secure) leaves the purchase pending while the customer completes it on session
	// (first_authentication.go). Histories before it ended the purchase (first_payment_failed:
	// authentication_required).
	changeFirstAuthentication = "first-payment-authentication"
)
