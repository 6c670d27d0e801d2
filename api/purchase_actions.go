package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/starter"
	"github.com/tollgate-billing/tollgate/workflows"
)

// Purchase actions go through starter/ to workflow updates, so a validator's refusal comes back
// at once as a 4xx with the workflow's own message ("cannot reactivate: …").

// lifecycle is the client of the purchase workflows.
func (s *Server) lifecycle() (*starter.Client, error) {
	if s.cfg.Starter != nil {
		return s.cfg.Starter, nil
	}
	if s.cfg.Temporal == nil {
		return nil, domain.Errorf(domain.CodeUnavailable, "", "purchase workflows are not configured on this server")
	}
	return starter.New(s.cfg.Temporal, s.store), nil
}

// starter is the client of the purchase workflows acting in the mode of the request's key: a
// sandbox key's purchases are sandbox purchases, whatever processor this deployment has.
func (s *Server) starter(r *http.Request) (*starter.Client, error) {
	c, err := s.lifecycle()
	if err != nil {
		return nil, err
	}
	return c.ForMode(keyOf(r).Mode), nil
}

// purchaseToAct loads the purchase ref for an action of the request's key. A purchase of the
// other mode is a CONFLICT: a sandbox key never moves a live purchase's money (a retry, a
// refund, a plan switch), nor a live key a sandbox one's.
func (s *Server) purchaseToAct(r *http.Request, ref string) (domain.Purchase, error) {
	p, err := s.store.GetPurchase(r.Context(), merchantOf(r), ref)
	if err == nil && p.Sandbox != keyOf(r).Sandbox() {
		err = starter.ModeConflict(p.Ref, p.Sandbox)
	}
	return p, err
}

// stateView answers a workflow state as the purchase view, with the projection's timestamps.
func (s *Server) stateView(ctx context.Context, st workflows.State) purchaseView {
	p := st.Projection()
	if row, err := s.store.GetPurchase(ctx, st.MerchantRef, st.PurchaseRef); err == nil {
		p.CreatedAt, p.UpdatedAt = row.CreatedAt, row.UpdatedAt
	}
	return toPurchaseView(p)
}

type cancelRenewalInput struct {
	Reason string `json:"reason"`
}

// cancelRenewal cancels renewal: access runs to the period end (pending cancellation).
func (s *Server) cancelRenewal(w http.ResponseWriter, r *http.Request) error {
	var in cancelRenewalInput
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if err := maxLen("reason", in.Reason, 500); err != nil {
		return err
	}
	return s.purchaseAction(w, r, func(ctx context.Context, c *starter.Client, merchant, ref string) (workflows.State, error) {
		return c.CancelRenewal(ctx, merchant, ref, in.Reason)
	})
}

// reactivateRenewal undoes a cancellation while the period still runs.
func (s *Server) reactivateRenewal(w http.ResponseWriter, r *http.Request) error {
	var in struct{}
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	return s.purchaseAction(w, r, func(ctx context.Context, c *starter.Client, merchant, ref string) (workflows.State, error) {
		return c.Reactivate(ctx, merchant, ref)
	})
}

// retryPayment charges the unpaid period of a past-due or suspended purchase now.
func (s *Server) retryPayment(w http.ResponseWriter, r *http.Request) error {
	var in struct{}
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	return s.purchaseAction(w, r, func(ctx context.Context, c *starter.Client, merchant, ref string) (workflows.State, error) {
		return c.RetryPayment(ctx, merchant, ref)
	})
}

// pauseInput pauses collection: behavior keep_access | void, and an optional resumesAt.
type pauseInput struct {
	Behavior  string `json:"behavior"`
	ResumesAt string `json:"resumesAt"`
}

var pauseBehaviors = []string{string(domain.PauseKeepAccess), string(domain.PauseVoid)}

// pausePurchase pauses collection: nothing renews until the purchase resumes (on its own at
// resumesAt, anchor kept). The workflow refuses a purchase that cannot pause (past due,
// trialing, cancelled, ended) and a resumesAt not after the purchase's own clock.
func (s *Server) pausePurchase(w http.ResponseWriter, r *http.Request) error {
	var in pauseInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.Behavior == "" {
		return domain.Errorf(domain.CodeMissingField, "behavior", "behavior is required: keep_access (access goes on) or void (no access)")
	}
	if err := oneOf("behavior", in.Behavior, pauseBehaviors...); err != nil {
		return err
	}
	pi := workflows.PauseInput{Behavior: domain.PauseBehavior(in.Behavior)}
	if in.ResumesAt != "" {
		at, err := time.Parse(time.RFC3339, in.ResumesAt)
		if err != nil {
			return domain.Errorf(domain.CodeInvalidField, "resumesAt", "resumesAt must be an RFC 3339 time like 2026-02-15T00:00:00Z")
		}
		if !at.After(time.Now()) { // a sandbox purchase's clock may be later still: the workflow checks against it
			return domain.Errorf(domain.CodeInvalidField, "resumesAt", "resumesAt must be in the future, not %s", in.ResumesAt)
		}
		pi.ResumesAt = &at
	}
	return s.purchaseAction(w, r, func(ctx context.Context, c *starter.Client, merchant, ref string) (workflows.State, error) {
		return c.Pause(ctx, merchant, ref, pi)
	})
}

type resumeInput struct {
	Anchor string `json:"anchor"`
}

// resumePurchase resumes collection: anchor keep (the default: the next charge at the old
// anchor) or now (a new period starts and is charged at once).
func (s *Server) resumePurchase(w http.ResponseWriter, r *http.Request) error {
	var in resumeInput
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	if err := oneOf("anchor", in.Anchor, workflows.ResumeKeep, workflows.ResumeNow); err != nil {
		return err
	}
	return s.purchaseAction(w, r, func(ctx context.Context, c *starter.Client, merchant, ref string) (workflows.State, error) {
		return c.Resume(ctx, merchant, ref, in.Anchor)
	})
}

// advanceClockInput moves a sandbox purchase's test clock: to an instant, or by days.
type advanceClockInput struct {
	To   string `json:"to"`
	Days int    `json:"days"`
}

// maxClockDays bounds one advance: ten years of renewals is plenty for a test.
const maxClockDays = 3660

func (s *Server) advanceClock(w http.ResponseWriter, r *http.Request) error {
	var in advanceClockInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if (in.To == "") == (in.Days == 0) {
		return domain.Errorf(domain.CodeMissingField, "days", "send either days (1 to %d) or to (an RFC 3339 time)", maxClockDays)
	}
	if in.Days < 0 || in.Days > maxClockDays {
		return domain.Errorf(domain.CodeInvalidField, "days", "days must be from 1 to %d", maxClockDays)
	}
	var to time.Time
	if in.To != "" {
		var err error
		if to, err = time.Parse(time.RFC3339, in.To); err != nil {
			return domain.Errorf(domain.CodeInvalidField, "to", "to must be an RFC 3339 time like 2026-02-15T00:00:00Z")
		}
	}
	if !keyOf(r).Sandbox() {
		return domain.Errorf(domain.CodeInvalidField, "", "the test clock works with sandbox keys only")
	}
	ctx, merchant := r.Context(), merchantOf(r)
	p, err := s.store.GetPurchase(ctx, merchant, r.PathValue("ref"))
	if err != nil {
		return err
	}
	if !p.Sandbox {
		return domain.Errorf(domain.CodeInvalidField, "", "purchase %s is live: the test clock moves sandbox purchases only", p.Ref)
	}
	if in.Days > 0 {
		c, err := s.starter(r)
		if err != nil {
			return err
		}
		cur, err := c.State(ctx, merchant, p.Ref)
		if err != nil {
			return err
		}
		to = time.Now().Add(cur.ClockOffset).AddDate(0, 0, in.Days)
	}
	if to.After(time.Now().AddDate(0, 0, maxClockDays)) {
		return domain.Errorf(domain.CodeInvalidField, "to", "to must be within %d days", maxClockDays)
	}
	return s.actOn(w, r, p.Ref, func(ctx context.Context, c *starter.Client, merchant, ref string) (workflows.State, error) {
		return c.AdvanceClock(ctx, merchant, ref, to)
	})
}

// purchaseAction runs one workflow update on the purchase of the path, of the key's mode
// (purchaseToAct), and answers its state.
func (s *Server) purchaseAction(w http.ResponseWriter, r *http.Request,
	act func(ctx context.Context, c *starter.Client, merchant, ref string) (workflows.State, error)) error {
	p, err := s.purchaseToAct(r, r.PathValue("ref"))
	if err != nil {
		return err
	}
	return s.actOn(w, r, p.Ref, act)
}

// actOn runs one workflow update on purchase ref, loaded and checked by the caller, and answers
// its state.
func (s *Server) actOn(w http.ResponseWriter, r *http.Request, ref string,
	act func(ctx context.Context, c *starter.Client, merchant, ref string) (workflows.State, error)) error {
	c, err := s.starter(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	st, err := act(ctx, c, merchantOf(r), ref)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.stateView(ctx, st))
	return nil
}

type activatePlanInput struct {
	CustomerRef      string `json:"customerRef"`
	CustomerID       string `json:"customerId"`
	ProductRef       string `json:"productRef"`
	ProductReference string `json:"productReference"`
	PlanRef          string `json:"planRef"`
	// Quantity is the seats to buy on a per-seat plan (default 1, or the live purchase's seats).
	Quantity *int64 `json:"quantity"`
}

// activatePlanAnswer is seed 003's activatePlan result, with the checkout link where payment
// is needed.
type activatePlanAnswer struct {
	Status              string        `json:"status"` // activated, already_active, topup_required, payment_required, authentication_required, invalid
	Message             string        `json:"message,omitempty"`
	Purchase            *purchaseView `json:"purchase,omitempty"`
	PreviousPurchaseRef string        `json:"previousPurchaseRef,omitempty"`
	CheckoutURL         string        `json:"checkoutUrl,omitempty"`
	// PayURL (authentication_required): the page where the customer confirms the first payment
	PayURL string `json:"payUrl,omitempty"`
}

// activatePlan activates a product for a customer on a plan without checkout: free plans
// always, usage-based at zero, paid plans when the customer has a card on file. A customer on
// another plan of the product is switched. Payment needed answers a checkout URL.
func (s *Server) activatePlan(w http.ResponseWriter, r *http.Request) error {
	var in activatePlanInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	customerRef, err := requiredAlias("customerRef", in.CustomerRef, "customerId", in.CustomerID)
	if err != nil {
		return err
	}
	productRef, err := alias("productRef", in.ProductRef, "productReference", in.ProductReference)
	if err != nil {
		return err
	}
	if productRef == "" && in.PlanRef == "" {
		return domain.Errorf(domain.CodeMissingField, "productRef", "productRef (or planRef) is required")
	}
	quantity, err := quantityOf(in.Quantity)
	if err != nil {
		return err
	}
	ctx, merchant := r.Context(), merchantOf(r)
	cus, err := s.customerIn(ctx, merchant, customerRef, "customerRef")
	if err != nil {
		return err
	}
	if productRef == "" {
		plan, err := s.store.GetPlan(ctx, merchant, in.PlanRef)
		if err != nil {
			return inField(err, "planRef")
		}
		productRef = plan.ProductRef
	}
	prd, err := s.productIn(ctx, merchant, productRef, "productRef")
	if err != nil {
		return err
	}
	plan, err := s.planIn(ctx, merchant, prd.Ref, in.PlanRef)
	if err != nil {
		return err
	}
	if err := plan.CheckQuantity(domain.Quantity(quantity)); err != nil {
		return err
	}
	if _, err := s.processor(r); err != nil { // a live key without a live processor
		return err
	}
	c, err := s.starter(r)
	if err != nil {
		return err
	}
	res, err := c.ActivatePlan(ctx, merchant, cus.Ref, prd.Ref, plan.Ref, quantity)
	if err != nil {
		return err
	}
	out := activatePlanAnswer{Status: res.Status, Message: res.Message, PreviousPurchaseRef: res.PreviousPurchaseRef}
	if res.Purchase != nil {
		v := toPurchaseView(*res.Purchase)
		if row, err := s.store.GetPurchase(ctx, merchant, res.Purchase.Ref); err == nil {
			v = toPurchaseView(row)
		}
		out.Purchase = &v
	}
	if res.Status == starter.PaymentRequired || res.Status == starter.TopupRequired {
		cs := checkoutFor(r, cus.Ref, prd.Ref, plan.Ref)
		cs.Quantity = quantity
		cs, err := s.store.CreateCheckoutSession(ctx, cs, 0)
		if err != nil {
			return err
		}
		out.CheckoutURL = s.checkoutURL(r, cs.Ref)
	}
	if res.Status == starter.AuthenticationRequired && res.Purchase != nil {
		a, err := s.store.OpenPaymentAuthentication(ctx, merchant, res.Purchase.Ref)
		if err != nil {
			return err
		}
		out.PayURL = s.baseURL(r) + "/pay/" + a.Token
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
