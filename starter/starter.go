// Package starter is the client side of the purchase workflows and the only door to them from
// the API, MCP and CLI: start, signal, update, query. Every call is scoped to a merchant: another
// merchant's purchase is not found. Refusals come back as *domain.Error with the workflow's
// person-readable message.
package starter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// Client starts and drives purchase workflows.
type Client struct {
	Temporal client.Client
	Store    *store.Store
	// Live is the mode of the key (or of the session a key made) this client acts for: the
	// purchases it starts are live ones, charged by the live processor, and it switches plans
	// of live purchases only. The zero value acts for sandbox keys, so a caller that forgets
	// the mode never moves real money. Set it with ForMode.
	Live bool
	// TaskQueue defaults to workflows.TaskQueue.
	TaskQueue string
}

// New returns a Client acting for sandbox keys; ForMode gives one for another mode.
func New(c client.Client, st *store.Store) *Client {
	return &Client{Temporal: c, Store: st, TaskQueue: workflows.TaskQueue}
}

// ForMode is c acting for a key of mode (domain.ModeLive or domain.ModeSandbox): the key's mode,
// never the process's processor, decides whether a purchase moves real money.
func (c *Client) ForMode(mode string) *Client {
	out := *c
	out.Live = !domain.IsSandbox(mode)
	return &out
}

// sandbox is whether the purchases this client starts are sandbox purchases.
func (c *Client) sandbox() bool { return !c.Live }

// ModeConflict is the refusal of a key (or a session it made) acting on purchase purchaseRef of
// the other mode: a sandbox key never moves a live purchase's money, nor a live key a sandbox
// one's. The API and the pages check it where they load the purchase; ActivatePlan checks the
// customer's live purchase of the product.
func ModeConflict(purchaseRef string, sandbox bool) error {
	key := domain.ModeSandbox
	if sandbox {
		key = domain.ModeLive
	}
	return domain.Errorf(domain.CodeConflict, "", "purchase %s is a %s purchase: a %s key cannot act on it",
		purchaseRef, domain.ModeOf(sandbox), key)
}

// StartInput starts a purchase of a plan for a customer.
type StartInput struct {
	MerchantRef string
	CustomerRef string
	PlanRef     string
	// PurchaseRef is generated when empty; pass one to make a retried start find the same purchase.
	PurchaseRef         string
	PreviousPurchaseRef string
	// Quantity is the seats bought (a per-seat plan charges price × quantity); 0 is 1.
	Quantity int64
}

// Start starts the purchase workflow and waits until it is activated (first payment taken,
// trial started, or activated at zero; or expired when the first payment failed). A retried
// start with the same PurchaseRef answers the running purchase.
func (c *Client) Start(ctx context.Context, in StartInput) (workflows.State, error) {
	cus, err := c.Store.GetCustomer(ctx, in.MerchantRef, in.CustomerRef)
	if err != nil {
		return workflows.State{}, err
	}
	plan, err := c.Store.GetPlan(ctx, in.MerchantRef, in.PlanRef)
	if err != nil {
		return workflows.State{}, err
	}
	if plan.Status != domain.StatusActive {
		return workflows.State{}, domain.Errorf(domain.CodeInvalidField, "planRef", "plan %s is %s and cannot be bought", plan.Ref, plan.Status)
	}
	if err := plan.CheckQuantity(domain.Quantity(in.Quantity)); err != nil {
		return workflows.State{}, err
	}
	if in.PurchaseRef == "" {
		in.PurchaseRef = domain.NewRef(domain.PrefixPurchase)
	}
	return c.start(ctx, workflows.PurchaseInput{PurchaseRef: in.PurchaseRef, MerchantRef: in.MerchantRef,
		CustomerRef: cus.Ref, Plan: plan, Sandbox: c.sandbox(), PreviousPurchaseRef: in.PreviousPurchaseRef,
		TimeZone: cus.Timezone, Quantity: domain.Quantity(in.Quantity)})
}

// StartOptions are the options every purchase workflow starts with: one workflow ID per
// purchase, never reused, and a retried start attaching to the running workflow.
func (c *Client) StartOptions(in workflows.PurchaseInput) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       workflows.WorkflowID(in.PurchaseRef),
		TaskQueue:                c.taskQueue(),
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SACustomerRef.ValueSet(in.CustomerRef), workflows.SAProductRef.ValueSet(in.Plan.ProductRef),
			workflows.SAPlanRef.ValueSet(in.Plan.Ref), workflows.SAMerchantRef.ValueSet(in.MerchantRef),
			workflows.SAPurchaseStatus.ValueSet(string(domain.PurchasePending))),
		StaticSummary: fmt.Sprintf("%s buys %s (%s)", in.CustomerRef, in.Plan.Name, in.Plan.Ref),
	}
}

// start claims the customer's one live purchase of the product for in (store.ClaimPurchase),
// then starts its workflow. A customer who already has a live purchase of the product gets a
// CONFLICT naming it (liveConflict), and nothing is charged.
func (c *Client) start(ctx context.Context, in workflows.PurchaseInput) (workflows.State, error) {
	if in.Plan.TrialDays > 0 { // a trial once per customer and product: never again by buying anew
		had, err := c.Store.HadTrial(ctx, in.MerchantRef, in.CustomerRef, in.Plan.ProductRef)
		if err != nil {
			return workflows.State{}, err
		}
		if had {
			in.Plan.TrialDays = 0
		}
	}
	owner, err := c.Store.ClaimPurchase(ctx, claimOf(in))
	if err != nil {
		return workflows.State{}, err
	}
	if owner.Ref != in.PurchaseRef {
		return workflows.State{}, liveConflict(owner)
	}
	return c.run(ctx, in)
}

// run records the purchase's terms, then sends the start and the activation update in one call
// (update-with-start): it starts the workflow of a claimed purchase, or waits for the activation
// of the one already running. The worker charges only under recorded terms (workflows/terms.go).
func (c *Client) run(ctx context.Context, in workflows.PurchaseInput) (workflows.State, error) {
	if err := c.recordTerms(ctx, in); err != nil {
		return workflows.State{}, err
	}
	op := c.Temporal.NewWithStartWorkflowOperation(c.StartOptions(in), workflows.PurchaseWorkflow, in)
	h, err := c.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{WorkflowID: workflows.WorkflowID(in.PurchaseRef),
			UpdateName: workflows.UpdateActivation, WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	if err != nil {
		return workflows.State{}, fmt.Errorf("start purchase %s: %w", in.PurchaseRef, err)
	}
	var s workflows.State
	if err := h.Get(ctx, &s); err != nil {
		return s, c.refusal(ctx, in.MerchantRef, in.PurchaseRef, "start", err)
	}
	return s, nil
}

// recordTerms records the terms of buying in.Plan for the purchase, before anything charges
// under them (workflows/terms.go).
func (c *Client) recordTerms(ctx context.Context, in workflows.PurchaseInput) error {
	terms := workflows.NewTerms(in)
	detail, _ := json.Marshal(terms)
	return c.Store.RecordGrant(ctx, store.Grant{MerchantRef: in.MerchantRef, PurchaseRef: in.PurchaseRef,
		Kind: store.GrantTerms, Key: terms.Digest(), Detail: detail})
}

func (c *Client) taskQueue() string {
	if c.TaskQueue == "" {
		return workflows.TaskQueue
	}
	return c.TaskQueue
}

// CancelRenewal cancels renewal: the purchase runs to its period end (pending cancellation), or
// ends at once while past due or suspended.
func (c *Client) CancelRenewal(ctx context.Context, merchant, purchaseRef, reason string) (workflows.State, error) {
	return c.updateState(ctx, merchant, purchaseRef, workflows.UpdateCancelRenewal, workflows.CancelRenewalInput{Reason: reason})
}

// Reactivate undoes a cancellation before the period ends.
func (c *Client) Reactivate(ctx context.Context, merchant, purchaseRef string) (workflows.State, error) {
	return c.updateState(ctx, merchant, purchaseRef, workflows.UpdateReactivateRenewal, workflows.ReactivateInput{})
}

// Refund refunds one of the purchase's payments, fully or partly. in.RequestKey is the caller's
// idempotency key: the same key again answers the first refund. The purchase's workflow makes
// the refund while it runs; once it has closed (30 days after the purchase ended) a refund
// workflow of the request's own does (workflows/refund.go), and the result carries no State.
func (c *Client) Refund(ctx context.Context, merchant, purchaseRef string, in workflows.RefundInput) (workflows.RefundResult, error) {
	var r workflows.RefundResult
	if in.RequestKey == "" {
		return r, domain.Errorf(domain.CodeMissingField, "idempotencyKey", "a refund needs an idempotency key")
	}
	p, err := c.Store.GetPurchase(ctx, merchant, purchaseRef)
	if err != nil {
		return r, err
	}
	if err := c.recordRefund(ctx, merchant, purchaseRef, in); err != nil {
		return r, err
	}
	err = c.send(ctx, purchaseRef, workflows.UpdateRefund, "refund/"+in.RequestKey, in, &r)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf): // the purchase's workflow has closed
		return c.refundAlone(ctx, p, in)
	case err != nil:
		return r, c.refusal(ctx, merchant, purchaseRef, workflows.UpdateRefund, err)
	}
	return r, nil
}

// recordRefund records a refund request before it is sent: the worker refunds only requests
// recorded here (workflows/terms.go).
func (c *Client) recordRefund(ctx context.Context, merchant, purchaseRef string, in workflows.RefundInput) error {
	detail, _ := json.Marshal(in)
	return c.Store.RecordGrant(ctx, store.Grant{MerchantRef: merchant, PurchaseRef: purchaseRef, Kind: store.GrantRefund,
		Key: workflows.RefundGrantKey(in.RequestKey, in.TransactionRef, in.Amount), Detail: detail})
}

// refundAlone refunds a payment of a purchase whose workflow has closed through the request's
// own refund workflow, started under the purchase's recorded terms: a retried request joins it
// while it runs and gets its result once it is done (a refusal may be asked again).
func (c *Client) refundAlone(ctx context.Context, p domain.Purchase, in workflows.RefundInput) (workflows.RefundResult, error) {
	var r workflows.RefundResult
	terms, ok, err := c.Store.TermsOf(ctx, p.Ref)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, domain.Errorf(domain.CodeConflict, "", "cannot refund: the terms of purchase %s were never recorded", p.Ref)
	}
	if in.TransactionRef == "" { // the latest payment, as the purchase's workflow would take
		txns, err := c.Store.PurchaseTransactions(ctx, p.MerchantRef, p.Ref)
		if err != nil {
			return r, err
		}
		for _, t := range txns {
			if t.Kind == domain.TxnPayment && t.Status == domain.TxnSucceeded {
				in.TransactionRef = t.Ref
			}
		}
		if in.TransactionRef == "" {
			return r, domain.Errorf(domain.CodeConflict, "", "nothing to refund: purchase %s has no payments", p.Ref)
		}
		if err := c.recordRefund(ctx, p.MerchantRef, p.Ref, in); err != nil { // the request as it is now sent
			return r, err
		}
	}
	run, err := c.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.RefundWorkflowID(p.Ref, in.RequestKey),
		TaskQueue:                c.taskQueue(),
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.SAMerchantRef.ValueSet(p.MerchantRef),
			workflows.SACustomerRef.ValueSet(p.CustomerRef), workflows.SAProductRef.ValueSet(p.ProductRef)),
		StaticSummary: fmt.Sprintf("refund of %s (purchase %s, ended)", in.TransactionRef, p.Ref),
	}, workflows.PaymentRefundWorkflow, workflows.PaymentRefundInput{MerchantRef: p.MerchantRef, PurchaseRef: p.Ref,
		CustomerRef: p.CustomerRef, ProductRef: p.ProductRef, Currency: p.Currency, Terms: terms.Key,
		ClockOffset: p.ClockOffset, Request: in})
	if err != nil {
		return r, fmt.Errorf("start refund workflow of %s: %w", p.Ref, err)
	}
	if err := run.Get(ctx, &r); err != nil {
		return r, c.refusal(ctx, p.MerchantRef, p.Ref, workflows.UpdateRefund, err)
	}
	return r, nil
}

// RetryPayment charges the unpaid period of a past-due or suspended purchase now (after the
// customer updated the card). A decline is PAYMENT_REQUIRED.
func (c *Client) RetryPayment(ctx context.Context, merchant, purchaseRef string) (workflows.State, error) {
	return c.updateState(ctx, merchant, purchaseRef, workflows.UpdateRetryPayment, workflows.RetryPaymentInput{})
}

// Pause pauses collection of a purchase: nothing renews until it resumes (on its own at
// in.ResumesAt when set, anchor kept); in.Behavior says whether the customer keeps access.
func (c *Client) Pause(ctx context.Context, merchant, purchaseRef string, in workflows.PauseInput) (workflows.State, error) {
	return c.updateState(ctx, merchant, purchaseRef, workflows.UpdatePause, in)
}

// Resume resumes collection of a paused purchase: anchor keep (the next charge at the old
// anchor) or now (a new period, charged at once).
func (c *Client) Resume(ctx context.Context, merchant, purchaseRef, anchor string) (workflows.State, error) {
	return c.updateState(ctx, merchant, purchaseRef, workflows.UpdateResume, workflows.ResumeInput{Anchor: anchor})
}

// AdvanceClock moves a sandbox purchase's clock to `to`, playing every renewal and dunning
// event up to it, and answers the state after. The clock's offset is kept in Postgres too:
// refunds count their window on it after the purchase's workflow has closed.
func (c *Client) AdvanceClock(ctx context.Context, merchant, purchaseRef string, to time.Time) (workflows.State, error) {
	s, err := c.updateState(ctx, merchant, purchaseRef, workflows.UpdateAdvanceClock, workflows.AdvanceClockInput{To: to})
	if err != nil {
		return s, err
	}
	return s, c.Store.SetClockOffset(ctx, merchant, purchaseRef, s.ClockOffset)
}

// State answers the full state of a purchase.
func (c *Client) State(ctx context.Context, merchant, purchaseRef string) (workflows.State, error) {
	var s workflows.State
	if _, err := c.Store.GetPurchase(ctx, merchant, purchaseRef); err != nil {
		return s, err
	}
	v, err := c.Temporal.QueryWorkflow(ctx, workflows.WorkflowID(purchaseRef), "", workflows.QueryState)
	if err != nil {
		return s, c.refusal(ctx, merchant, purchaseRef, "read", err)
	}
	return s, v.Get(&s)
}

// updateState sends an update that answers the purchase's state after it.
func (c *Client) updateState(ctx context.Context, merchant, purchaseRef, name string, arg any) (workflows.State, error) {
	var s workflows.State
	err := c.update(ctx, merchant, purchaseRef, name, "", arg, &s)
	return s, err
}

// update sends an update to a purchase of merchant and waits for its result. updateID, when
// set, makes a retried call the same update.
func (c *Client) update(ctx context.Context, merchant, purchaseRef, name, updateID string, arg, out any) error {
	if _, err := c.Store.GetPurchase(ctx, merchant, purchaseRef); err != nil {
		return err
	}
	if err := c.send(ctx, purchaseRef, name, updateID, arg, out); err != nil {
		return c.refusal(ctx, merchant, purchaseRef, name, err)
	}
	return nil
}

// send sends an update to a purchase's workflow and waits for its result; errors are Temporal's.
func (c *Client) send(ctx context.Context, purchaseRef, name, updateID string, arg, out any) error {
	h, err := c.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.WorkflowID(purchaseRef), UpdateID: updateID, UpdateName: name,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, out)
	}
	return err
}

// refusal turns a workflow's refusal into *domain.Error: the error type is the code, the
// message is for people, the detail names the field. A purchase whose workflow has closed is a
// CONFLICT told from its projection.
func (c *Client) refusal(ctx context.Context, merchant, purchaseRef, action string, err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && isCode(app.Type()) {
		e := &domain.Error{Code: domain.Code(app.Type()), Message: app.Message()}
		if app.HasDetails() {
			_ = app.Details(&e.Field)
		}
		return e
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		p, perr := c.Store.GetPurchase(ctx, merchant, purchaseRef)
		if perr != nil {
			return perr
		}
		if p.EndedAt != nil {
			return domain.Errorf(domain.CodeConflict, "", "cannot %s: purchase %s ended (%s) on %s", action, p.Ref, p.Status,
				p.EndedAt.UTC().Format("2006-01-02"))
		}
		return domain.Errorf(domain.CodeConflict, "", "cannot %s: purchase %s is %s and no longer running", action, p.Ref, p.Status)
	}
	return fmt.Errorf("%s purchase %s: %w", action, purchaseRef, err)
}

func isCode(t string) bool {
	switch domain.Code(t) {
	case domain.CodeInvalidField, domain.CodeMissingField, domain.CodeNotFound, domain.CodeAlreadyExists,
		domain.CodePaymentRequired, domain.CodeConflict, domain.CodeRefundWindowClosed:
		return true
	}
	return false
}
