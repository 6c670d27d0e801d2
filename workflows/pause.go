package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tollgate-billing/tollgate/domain"
)

// Pause and resume collection (DESIGN.md "The purchase lifecycle", issue 13 point 7). A paused
// purchase keeps its anchor and its period boundaries, but a boundary while paused starts the
// next period without charging for it (skipPeriod): nothing renews. Its behaviour says whether
// the customer keeps access meanwhile (domain.PauseKeepAccess) or not (domain.PauseVoid). It
// resumes when asked, or on its own at ResumesAt (a timer of the run loop, anchor kept):
//   - anchor keep: the purchase is active again in the period it is in; the next charge is at
//     the next boundary of the old anchor. The rest of that period is not billed.
//   - anchor now: the period starts again at the resume and is charged at once, as a renewal
//     (a decline is past due, with dunning); the anchor moves to the resume.

// Anchors of a resume.
const (
	ResumeKeep = "keep"
	ResumeNow  = "now"
)

// PauseInput pauses collection of a purchase.
type PauseInput struct {
	// Behavior: keep_access or void (domain.PauseBehavior).
	Behavior domain.PauseBehavior
	// ResumesAt resumes the purchase on its own (anchor kept); nil pauses until asked.
	ResumesAt *time.Time `json:",omitempty"`
}

// ResumeInput resumes collection of a paused purchase.
type ResumeInput struct {
	// Anchor: keep (default) or now.
	Anchor string `json:",omitempty"`
}

func (p *purchase) validatePause(ctx workflow.Context, in PauseInput) error {
	return p.state.pauseRefusal(in, p.now(ctx))
}

// pauseRefusal says why the purchase cannot be paused as asked at now, or nil.
func (s State) pauseRefusal(in PauseInput, now time.Time) error {
	switch in.Behavior {
	case domain.PauseKeepAccess, domain.PauseVoid:
	case "":
		return refuse(domain.CodeMissingField, "behavior", "behavior is required: %s or %s", domain.PauseKeepAccess, domain.PauseVoid)
	default:
		return refuse(domain.CodeInvalidField, "behavior", "behavior must be %s (access goes on, nothing is charged) or %s (no access, nothing is charged)",
			domain.PauseKeepAccess, domain.PauseVoid)
	}
	if in.ResumesAt != nil && !in.ResumesAt.After(now) {
		return refuse(domain.CodeInvalidField, "resumesAt", "resumesAt must be in the future: %s is not after the purchase's time %s",
			in.ResumesAt.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
	}
	if err := s.notLive("pause"); err != nil {
		return err
	}
	switch {
	case s.Status == domain.PurchasePaused:
		return refuse(domain.CodeConflict, "", "purchase %s is already paused (since %s)", s.PurchaseRef, day(s.Pause.PausedAt))
	case s.Status == domain.PurchasePastDue || s.Status == domain.PurchaseSuspended:
		return refuse(domain.CodeConflict, "", "cannot pause: the purchase is %s; the unpaid period must be paid first (retry-payment) or the purchase cancelled", s.Status)
	case s.Status == domain.PurchaseTrialing:
		return refuse(domain.CodeConflict, "", "cannot pause: the purchase is in its trial, which charges nothing yet")
	case s.Plan.Type == domain.PlanOneTime:
		return refuse(domain.CodeConflict, "", "cannot pause: a one-time purchase does not renew")
	case s.CancelledAt != nil:
		return refuse(domain.CodeConflict, "", "cannot pause: renewal is cancelled (the purchase ends on %s)", day(s.PeriodEnd))
	case s.Status != domain.PurchaseActive:
		return refuse(domain.CodeConflict, "", "cannot pause a %s purchase", s.Status)
	}
	return nil
}

// updatePause pauses collection now. The validator runs again under the mutex (and with no
// charge in flight): a renewal may have run between validation and handling.
func (p *purchase) updatePause(ctx workflow.Context, in PauseInput) (State, error) {
	err := p.lockedIdle(ctx, func(ctx workflow.Context) error {
		workflow.GetVersion(ctx, changePauseCollection, workflow.DefaultVersion, 1) // marks histories that pause
		if err := p.validatePause(ctx, in); err != nil {
			return err
		}
		s := &p.state
		pause := &domain.Pause{Behavior: in.Behavior, PausedAt: p.stamp(ctx)}
		if in.ResumesAt != nil {
			at := in.ResumesAt.UTC().Truncate(time.Second)
			pause.ResumesAt = &at
		}
		from := s.DisplayStatus()
		s.Status, s.Pause = domain.PurchasePaused, pause
		return p.write(ctx, "pause", from, pauseDetail(pause))
	})
	p.nudge()
	return p.state, err
}

func pauseDetail(pause *domain.Pause) string {
	if pause.ResumesAt != nil {
		return fmt.Sprintf("%s until %s", pause.Behavior, pause.ResumesAt.Format(time.RFC3339))
	}
	return string(pause.Behavior)
}

func (p *purchase) validateResume(ctx workflow.Context, in ResumeInput) error {
	s := p.state
	switch in.Anchor {
	case "", ResumeKeep, ResumeNow:
	default:
		return refuse(domain.CodeInvalidField, "anchor", "anchor must be %s (the next charge at the old anchor) or %s (a new period, charged now)",
			ResumeKeep, ResumeNow)
	}
	if s.Status != domain.PurchasePaused {
		if err := p.notLive("resume"); err != nil {
			return err
		}
		return refuse(domain.CodeConflict, "", "cannot resume: purchase %s is %s, not paused", s.PurchaseRef, s.DisplayStatus())
	}
	if in.Anchor == ResumeNow && s.CancelledAt != nil {
		return refuse(domain.CodeConflict, "anchor", "cannot resume with anchor now: renewal is cancelled; reactivate it first, or resume with anchor keep")
	}
	return nil
}

func (p *purchase) updateResume(ctx workflow.Context, in ResumeInput) (State, error) {
	err := p.lockedIdle(ctx, func(ctx workflow.Context) error {
		if err := p.validateResume(ctx, in); err != nil {
			return err
		}
		return p.resume(ctx, in.Anchor, "")
	})
	p.nudge()
	return p.state, err
}

// resume makes the purchase active again; anchor now starts a new period at once and charges it
// as a renewal does.
func (p *purchase) resume(ctx workflow.Context, anchor, detail string) error {
	s := &p.state
	if anchor == "" {
		anchor = ResumeKeep
	}
	s.Status, s.Pause = domain.PurchaseActive, nil
	if detail == "" {
		detail = "anchor " + anchor
	}
	if err := p.write(ctx, "resume", domain.PurchasePaused, detail); err != nil {
		return err
	}
	if anchor != ResumeNow {
		return nil
	}
	now := p.stamp(ctx)
	s.PeriodEnd = now // the paused period ends at the resume, the anchor moves there
	s.Anchor, s.AnchorPeriod = now, s.Period
	return p.renew(ctx)
}

// pausedStep plays the due event of a paused purchase: the automatic resume (first on a tie,
// so a resume at a boundary renews there), or a period boundary.
func (p *purchase) pausedStep(ctx workflow.Context) error {
	s := &p.state
	if r := s.Pause.ResumesAt; r != nil && !r.After(s.PeriodEnd) {
		return p.resume(ctx, ResumeKeep, "resumesAt "+r.Format(time.RFC3339)+", anchor keep")
	}
	s.RunPeriods++
	return p.skipPeriod(ctx)
}

// skipPeriod is a period boundary while paused: the next period starts unbilled (a scheduled
// change is made there), or a purchase whose renewal was cancelled ends.
func (p *purchase) skipPeriod(ctx workflow.Context) error {
	s := &p.state
	if s.CancelledAt != nil {
		return p.endAt(ctx, "end_period", domain.PurchaseCancelled, "cancelled", s.PeriodEnd)
	}
	boundary := s.PeriodEnd
	detail := fmt.Sprintf("period %d not billed", s.Period+1)
	if sc := s.ScheduledChange; sc != nil {
		detail += "; scheduled change to " + sc.Plan.Ref + " made"
		p.applyScheduledChange(boundary)
	}
	s.UnitsBilled, s.UnitsOwed = 0, 0
	s.Period++
	s.PeriodStart = boundary
	s.PeriodEnd = p.anchoredPeriodEnd(ctx)
	p.forgetOldPayments(ctx, boundary)
	return p.write(ctx, "skip_period", s.DisplayStatus(), detail)
}
