package starter

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/workflows"
)

// ProcessEvent starts the workflow that processes a verified processor webhook event
// (workflows.ProcessorEvent), once per event id: a redelivered event attaches to the running
// workflow, and one already finished is not processed again.
func (c *Client) ProcessEvent(ctx context.Context, in workflows.ProcessorEventInput) error {
	_, err := c.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.EventWorkflowID(in.Processor, in.EventID),
		TaskQueue:                c.taskQueue(),
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            fmt.Sprintf("%s %s", in.Type, in.PaymentRef+in.PaymentMethod+in.ProcessorCustomer),
	}, workflows.ProcessorEventWorkflow, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("process event %s: %w", in.EventID, err)
	}
	return nil
}

// PaymentChanged tells a purchase that one of its payments changed at the processor, as a
// webhook event does: the hosted payment page sends it once Stripe.js completed a payment that
// asked for authentication, so the purchase need not wait for Stripe's event. The purchase
// refetches the payment, so a repeat or a late webhook changes nothing more.
func (c *Client) PaymentChanged(ctx context.Context, merchantRef, purchaseRef, paymentRef string) error {
	if _, err := c.Store.GetPurchase(ctx, merchantRef, purchaseRef); err != nil {
		return err
	}
	return c.Temporal.SignalWorkflow(ctx, workflows.WorkflowID(purchaseRef), "", workflows.SignalPaymentChanged,
		workflows.PaymentChangedInput{EventID: "pay/" + paymentRef, Type: "payment_intent.confirmed", PaymentRef: paymentRef})
}
