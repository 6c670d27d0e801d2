package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tollgate-billing/tollgate/store"
	"github.com/tollgate-billing/tollgate/workflows"
)

// moneyMove is a charge, a refund or a projection write (which grants access) as a purchase
// workflow asks for it.
type moneyMove struct {
	action                   string // charge, refund, projection
	merchant, purchase, cus  string
	terms, idempotencyKey    string
	amount                   int64
	currency, refundGrantKey string // refundGrantKey only for refunds
}

// checkRecorded lets through only what the API asked for (workflows/terms.go): the workflow is
// the purchase's own, its terms were recorded for this purchase, merchant and customer, and a
// refund's request was recorded too. Anything else is refused, never retried, with an audit row
// for the merchant's log; a Postgres fault is returned as is and retried.
func (a *Activities) checkRecorded(ctx context.Context, m moneyMove) error {
	reason, err := a.unrecorded(ctx, m)
	if err != nil || reason == "" {
		return err
	}
	data, _ := json.Marshal(map[string]any{"reason": reason, "amount": m.amount, "currency": m.currency,
		"idempotencyKey": m.idempotencyKey, "workflowId": workflowID(ctx)})
	if err := a.Store.InsertAudit(ctx, store.AuditEntry{MerchantRef: m.merchant, ObjectType: "purchase", ObjectRef: m.purchase,
		Action: m.action + "_refused", Actor: "worker", Data: data}); err != nil {
		return err
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s refused: %s", m.action, reason), workflows.ErrTypeNotRecorded, nil)
}

// unrecorded says why m was not asked for by the API, or "" when it was.
func (a *Activities) unrecorded(ctx context.Context, m moneyMove) (string, error) {
	if id := workflowID(ctx); id != "" && id != workflows.WorkflowID(m.purchase) {
		return fmt.Sprintf("workflow %s is not purchase %s's", id, m.purchase), nil
	}
	g, ok, err := a.Store.FindGrant(ctx, m.purchase, store.GrantTerms, m.terms)
	if err != nil {
		return "", err
	}
	var t workflows.Terms
	if ok {
		_ = json.Unmarshal(g.Detail, &t)
	}
	if !ok || g.MerchantRef != m.merchant || t.CustomerRef != m.cus {
		return "the purchase's terms were not recorded by the API", nil
	}
	if m.refundGrantKey == "" {
		return "", nil
	}
	r, ok, err := a.Store.FindGrant(ctx, m.purchase, store.GrantRefund, m.refundGrantKey)
	if err != nil {
		return "", err
	}
	if !ok || r.MerchantRef != m.merchant {
		return "the refund was not requested through the API", nil
	}
	return "", nil
}

// workflowID is the ID of the workflow that runs the activity ("" outside one, as in tests that
// call an activity directly).
func workflowID(ctx context.Context) string {
	if !activity.IsActivity(ctx) {
		return ""
	}
	return activity.GetInfo(ctx).WorkflowExecution.ID
}
