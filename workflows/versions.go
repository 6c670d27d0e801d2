package workflows

// Change IDs for workflow.GetVersion. Every change to the workflow that alters its command
// sequence gets one here, with the date it shipped; the replay test (testdata/) proves that
// histories recorded before it still replay. Remove a change ID only when no open workflow and
// no retained history can predate it.
const (
	// changeFinalUsage (2026-11): a usage-based or hybrid purchase cancelled at period end bills
	// the overage of its last period. Histories before it ended without that charge.
	changeFinalUsage = "final-usage-at-cancel"
)
