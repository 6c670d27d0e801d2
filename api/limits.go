package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/metrics"
	"github.com/tollgate-billing/tollgate/usage"
)

// limitsInput is check_limits: the customer and product of seed 000, optionally the meter (or
// an actionType, mapped as for usage events) and how many units the caller is about to use.
type limitsInput struct {
	CustomerRef      string `json:"customerRef"`
	CustomerID       string `json:"customerId"`
	ProductRef       string `json:"productRef"`
	ProductReference string `json:"productReference"`
	MeterName        string `json:"meterName"`
	ActionType       string `json:"actionType"`
	Units            *int64 `json:"units"`
}

// limitsAnswer is the answer of check_limits. limit and remaining are null when the period is
// unlimited; checkoutUrl is set when the check is blocked.
type limitsAnswer struct {
	WithinLimits bool       `json:"withinLimits"`
	Used         int64      `json:"used"`
	Limit        *int64     `json:"limit"`
	Remaining    *int64     `json:"remaining"`
	FreeUnits    int64      `json:"freeUnits"`
	MeterName    string     `json:"meterName"`
	PeriodStart  time.Time  `json:"periodStart"`
	PeriodEnd    *time.Time `json:"periodEnd"`
	CustomerRef  string     `json:"customerRef"`
	ProductRef   string     `json:"productRef"`
	PlanRef      string     `json:"planRef,omitempty"`
	PurchaseRef  string     `json:"purchaseRef,omitempty"`
	Reason       string     `json:"reason,omitempty"`
	CheckoutURL  string     `json:"checkoutUrl,omitempty"`
}

func (in limitsInput) validate() (customer, product string, units int64, err error) {
	if customer, err = requiredAlias("customerRef", in.CustomerRef, "customerId", in.CustomerID); err != nil {
		return "", "", 0, err
	}
	if product, err = requiredAlias("productRef", in.ProductRef, "productReference", in.ProductReference); err != nil {
		return "", "", 0, err
	}
	if err = checkMeterName(in.MeterName); err != nil {
		return "", "", 0, err
	}
	if units, err = eventUnits(in.Units); err != nil {
		return "", "", 0, err
	}
	return customer, product, units, nil
}

// checkLimits is POST /v1/limits (check_limits). Read-only apart from the checkout session it
// opens (or reuses) for a blocked customer. One database round trip when within limits.
func (s *Server) checkLimits(w http.ResponseWriter, r *http.Request) error {
	var in limitsInput
	if err := decodeUsage(w, r, &in); err != nil {
		return err
	}
	customer, product, units, err := in.validate()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), usageTimeout)
	defer cancel()
	st, err := s.usage.LimitState(ctx, merchantOf(r), customer, product, in.MeterName, in.ActionType)
	if err != nil {
		return err
	}
	v := st.Evaluate(units)
	countLimitCheck(v.WithinLimits)
	out, err := s.limitsAnswer(ctx, r, st, v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// limitsAnswer serialises a verdict, with a checkout link when it is blocked.
func (s *Server) limitsAnswer(ctx context.Context, r *http.Request, st usage.LimitState, v usage.Verdict) (limitsAnswer, error) {
	out := limitsAnswer{WithinLimits: v.WithinLimits, Used: st.Used, Limit: v.Limit, Remaining: v.Remaining,
		FreeUnits: st.FreeUnits, MeterName: st.Meter, PeriodStart: st.PeriodStart.UTC(), PeriodEnd: st.PeriodEnd,
		CustomerRef: st.CustomerRef, ProductRef: st.ProductRef, PlanRef: st.PlanRef, PurchaseRef: st.PurchaseRef, Reason: v.Reason}
	if out.PeriodEnd != nil {
		end := out.PeriodEnd.UTC()
		out.PeriodEnd = &end
	}
	if !v.WithinLimits && v.CheckoutPlan != "" {
		cs, err := s.store.CheckoutForLimits(ctx, merchantOf(r), st.CustomerRef, st.ProductRef, v.CheckoutPlan, keyOf(r).Mode)
		if err != nil {
			return out, err
		}
		out.CheckoutURL = s.checkoutURL(r, cs.Ref)
	}
	return out, nil
}

// consumeAnswer is a consumed event with the limits after it.
type consumeAnswer struct {
	usage.Recorded
	Limits limitsAnswer `json:"limits"`
}

// consumeUsage is POST /v1/usages with "mode":"consume": check and record in one atomic step.
// Past the limit it answers 402 PAYMENT_REQUIRED in the one error shape, with the limits and a
// checkoutUrl beside it, and stores nothing.
func (s *Server) consumeUsage(ctx context.Context, w http.ResponseWriter, r *http.Request, e usage.Event) error {
	if e.ProductRef == "" {
		return domain.Errorf(domain.CodeMissingField, "productRef", "consume mode needs productRef: the limit belongs to the product's plan")
	}
	if e.Outcome != usage.OutcomeSuccess {
		return domain.Errorf(domain.CodeInvalidField, "outcome", "consume mode records a successful use; record other outcomes without mode")
	}
	merchant := merchantOf(r)
	st, err := s.usage.LimitState(ctx, merchant, e.CustomerRef, e.ProductRef, e.Meter, e.ActionType)
	if err != nil {
		return err
	}
	limit := st.EffectiveLimit()
	rec, used, err := s.usage.Consume(ctx, merchant, st, e, limit)
	if err == nil || errors.Is(err, usage.ErrLimitExceeded) {
		countLimitCheck(err == nil)
	}
	if errors.Is(err, usage.ErrLimitExceeded) {
		if fresh, ferr := s.usage.LimitState(ctx, merchant, e.CustomerRef, e.ProductRef, e.Meter, e.ActionType); ferr == nil {
			st = fresh
		}
		out, aerr := s.limitsAnswer(ctx, r, st, st.Evaluate(e.Units))
		if aerr != nil {
			return aerr
		}
		writeJSON(w, http.StatusPaymentRequired, paywallBody{
			Error:       errorDetailOf(r, domain.Errorf(domain.CodePaymentRequired, "units", "usage limit reached for this period: purchase required")),
			CheckoutURL: out.CheckoutURL, Limits: out})
		return nil
	}
	if err != nil {
		return err
	}
	st.Used = used
	out, err := s.limitsAnswer(ctx, r, st, st.Evaluate(0))
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if rec.Duplicate {
		status = http.StatusOK
	}
	writeJSON(w, status, consumeAnswer{Recorded: rec, Limits: out})
	return nil
}

// paywallBody is the one error shape plus what a paywall needs to send the customer on.
type paywallBody struct {
	Error       errorDetail  `json:"error"`
	CheckoutURL string       `json:"checkoutUrl,omitempty"`
	Limits      limitsAnswer `json:"limits"`
}

// countLimitCheck counts a limit check (check_limits, or a consume) by its verdict.
func countLimitCheck(within bool) {
	verdict := "blocked"
	if within {
		verdict = "within"
	}
	metrics.LimitChecks.WithLabelValues(verdict).Inc()
}
