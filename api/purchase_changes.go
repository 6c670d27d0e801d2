package api

import (
	"context"
	"net/http"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/money"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/workflows"
)

// Plan changes are steps of the purchase's own workflow (workflows/planchange.go): the purchase
// keeps its reference. The preview answers what a change would settle, computed by the same
// function as the change.

type changePlanInput struct {
	// PlanRef is the plan to move to; without it (a change of seats) the purchase keeps its plan.
	PlanRef string `json:"planRef"`
	// Quantity is the seats after the change (a per-seat plan); absent keeps the purchase's.
	Quantity *int64 `json:"quantity"`
	// ProrationBehavior: create_prorations (default), none, always_invoice.
	ProrationBehavior string `json:"prorationBehavior,omitempty"`
	// Effective: now or period_end; empty picks now for an upgrade, period_end for a downgrade.
	Effective string `json:"effective,omitempty"`
	// ProrationDate is a preview's prorationDate: the change then settles exactly its lines.
	ProrationDate string `json:"prorationDate,omitempty"`
}

// changeView is a change made or scheduled.
type changeView struct {
	FromPlanRef       string       `json:"fromPlanRef"`
	ToPlanRef         string       `json:"toPlanRef"`
	FromQuantity      int64        `json:"fromQuantity"`
	ToQuantity        int64        `json:"toQuantity"`
	Effective         string       `json:"effective"`
	EffectiveAt       time.Time    `json:"effectiveAt"`
	ProrationBehavior string       `json:"prorationBehavior"`
	Lines             []money.Line `json:"lines"`
	Total             int64        `json:"total"` // > 0 charged now, < 0 credited
	Currency          string       `json:"currency"`
	TransactionRef    string       `json:"transactionRef,omitempty"`
	RefundRefs        []string     `json:"refundRefs,omitempty"`
	Credit            int64        `json:"credit"` // kept on the purchase for its next charges
}

// changePlanAnswer keeps the shape of the switch it replaces: the purchase before (previous)
// and after (purchase) the change — now the same reference — and the change itself.
type changePlanAnswer struct {
	Previous purchaseView `json:"previous"`
	Purchase purchaseView `json:"purchase"`
	Change   changeView   `json:"change"`
}

// previewView is what a change would settle now and at the next renewal.
type previewView struct {
	PurchaseRef       string       `json:"purchaseRef"`
	FromPlanRef       string       `json:"fromPlanRef"`
	ToPlanRef         string       `json:"toPlanRef"`
	FromQuantity      int64        `json:"fromQuantity"`
	ToQuantity        int64        `json:"toQuantity"`
	Direction         string       `json:"direction"` // upgrade, downgrade, same_price
	Effective         string       `json:"effective"`
	EffectiveAt       time.Time    `json:"effectiveAt"`
	ProrationBehavior string       `json:"prorationBehavior"`
	ProrationDate     *time.Time   `json:"prorationDate,omitempty"`
	Currency          string       `json:"currency"`
	Lines             []money.Line `json:"lines"`
	Total             int64        `json:"total"`
	NextRenewal       renewalView  `json:"nextRenewal"`
	Credit            int64        `json:"credit"`
}

type renewalView struct {
	At    *time.Time   `json:"at,omitempty"`
	Lines []money.Line `json:"lines"`
	Total int64        `json:"total"`
}

func (s *Server) changeRequest(w http.ResponseWriter, r *http.Request) (starter.ChangePlanRequest, string, error) {
	var in changePlanInput
	if err := decode(w, r, &in, false); err != nil {
		return starter.ChangePlanRequest{}, "", err
	}
	quantity, err := quantityOf(in.Quantity)
	if err != nil {
		return starter.ChangePlanRequest{}, "", err
	}
	if in.Quantity == nil { // a change of seats alone names no plan
		if err := required("planRef", in.PlanRef); err != nil {
			return starter.ChangePlanRequest{}, "", err
		}
	}
	if err := oneOf("prorationBehavior", in.ProrationBehavior, workflows.ProrateCreate, workflows.ProrateNone, workflows.ProrateAlwaysInvoice); err != nil {
		return starter.ChangePlanRequest{}, "", err
	}
	if err := oneOf("effective", in.Effective, workflows.EffectiveNow, workflows.EffectivePeriodEnd); err != nil {
		return starter.ChangePlanRequest{}, "", err
	}
	req := starter.ChangePlanRequest{ProrationBehavior: in.ProrationBehavior, Effective: in.Effective, Quantity: quantity,
		RequestKey: r.Header.Get("Idempotency-Key")}
	if in.ProrationDate != "" {
		t, err := time.Parse(time.RFC3339, in.ProrationDate)
		if err != nil {
			return req, "", domain.Errorf(domain.CodeInvalidField, "prorationDate", "prorationDate must be an RFC 3339 time, as a preview answers it")
		}
		req.ProrationDate = &t
	}
	ctx, merchant := r.Context(), merchantOf(r)
	p, err := s.purchaseToAct(r, r.PathValue("ref"))
	if err != nil {
		return req, "", err
	}
	if in.PlanRef == p.PlanRef && in.Quantity == nil && req.RequestKey == "" { // with a key, a retry of a change made answers it
		return req, "", domain.Errorf(domain.CodeInvalidField, "planRef", "purchase %s is already on plan %s", p.Ref, p.PlanRef)
	}
	if in.PlanRef == "" || in.PlanRef == p.PlanRef { // the purchase's own plan, as it bought it (the workflow has it)
		return req, p.Ref, nil
	}
	plan, err := s.planIn(ctx, merchant, p.ProductRef, in.PlanRef)
	if err != nil {
		return req, "", err
	}
	req.PlanRef = plan.Ref
	return req, p.Ref, nil
}

// changePlan changes a purchase's plan inside its workflow: an upgrade now, prorated and charged
// at once (a decline is 402 and changes nothing), a downgrade at the period end by default.
func (s *Server) changePlan(w http.ResponseWriter, r *http.Request) error {
	req, ref, err := s.changeRequest(w, r)
	if err != nil {
		return err
	}
	c, err := s.starter(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	res, err := c.ChangePlan(ctx, merchantOf(r), ref, req)
	if err != nil {
		return err
	}
	out := changePlanAnswer{Previous: s.stateView(ctx, res.Previous), Purchase: s.stateView(ctx, res.Purchase)}
	out.Change = changeView{FromPlanRef: res.Previous.Plan.Ref, ToPlanRef: res.Purchase.Plan.Ref, Currency: res.Previous.Plan.Currency,
		FromQuantity: domain.Quantity(res.Previous.Quantity), ToQuantity: domain.Quantity(res.Purchase.Quantity),
		Credit: res.Purchase.Credit, Lines: []money.Line{}}
	switch {
	case res.Change != nil:
		ch := res.Change
		out.Change.Effective, out.Change.EffectiveAt, out.Change.ProrationBehavior = ch.Effective, ch.At, ch.ProrationBehavior
		out.Change.Total, out.Change.TransactionRef, out.Change.RefundRefs = ch.Total, ch.TxnRef, ch.RefundRef
		if ch.Lines != nil {
			out.Change.Lines = ch.Lines
		}
	case res.Scheduled != nil:
		out.Change.ToPlanRef, out.Change.ToQuantity = res.Scheduled.Plan.Ref, domain.Quantity(res.Scheduled.Quantity)
		out.Change.Effective, out.Change.EffectiveAt = workflows.EffectivePeriodEnd, res.Scheduled.At
		out.Change.ProrationBehavior = res.Scheduled.ProrationBehavior
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// previewChangePlan answers what change-plan would settle with the same body, changing nothing.
func (s *Server) previewChangePlan(w http.ResponseWriter, r *http.Request) error {
	req, ref, err := s.changeRequest(w, r)
	if err != nil {
		return err
	}
	c, err := s.starter(r)
	if err != nil {
		return err
	}
	q, err := c.PreviewChange(r.Context(), merchantOf(r), ref, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPreview(q))
	return nil
}

func toPreview(q workflows.ChangeQuote) previewView {
	v := previewView{PurchaseRef: q.PurchaseRef, FromPlanRef: q.FromPlanRef, ToPlanRef: q.ToPlanRef,
		FromQuantity: q.FromQuantity, ToQuantity: q.ToQuantity, Direction: q.Direction,
		Effective: q.Effective, EffectiveAt: q.At, ProrationBehavior: q.ProrationBehavior, Currency: q.Currency,
		Lines: nonNil(q.Lines), Total: q.Total, Credit: q.CreditAfter,
		NextRenewal: renewalView{Lines: nonNil(q.NextRenewal), Total: q.NextRenewalTotal}}
	if !q.ProrationDate.IsZero() {
		d := q.ProrationDate
		v.ProrationDate = &d
	}
	if !q.NextRenewalAt.IsZero() {
		at := q.NextRenewalAt
		v.NextRenewal.At = &at
	}
	return v
}

func nonNil(l []money.Line) []money.Line {
	if l == nil {
		return []money.Line{}
	}
	return l
}

// cancelScheduledChange drops the plan change scheduled for the period end.
func (s *Server) cancelScheduledChange(w http.ResponseWriter, r *http.Request) error {
	var in struct{}
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	return s.purchaseAction(w, r, func(ctx context.Context, c *starter.Client, merchant, ref string) (workflows.State, error) {
		return c.CancelScheduledChange(ctx, merchant, ref)
	})
}
