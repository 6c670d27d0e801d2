package starter_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"google.golang.org/protobuf/proto"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

// TestHistoriesCarryNoCustomerPII: Temporal keeps histories beyond Tollgate's reach (retention,
// the UI, exports), so a purchase names its customer by reference only. Neither the customer's
// email nor name appears anywhere in the history of a purchase that activated, renewed, was
// refunded and cancelled (inputs, activity payloads, updates, search attributes, summary), in
// its description, or in its state query.
func TestHistoriesCarryNoCustomerPII(t *testing.T) {
	s := newStack(t)
	plan := s.plan(domain.Plan{Type: domain.PlanRecurring, Price: 1000})
	email, name := "jane.piidoe@example.org", "Jane Piidoe"
	cus, err := s.st.CreateCustomer(s.ctx, domain.Customer{MerchantRef: s.merchant, Email: email, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	s.setCard(cus.Ref, "4242424242424242")
	st := s.start(cus, plan)
	ref := st.PurchaseRef
	st = s.advance(ref, st.PeriodEnd.Add(time.Minute))
	if _, err := s.c.Refund(s.ctx, s.merchant, ref, workflows.RefundInput{RequestKey: "pii", Amount: 100}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.c.CancelRenewal(s.ctx, s.merchant, ref, "done"); err != nil {
		t.Fatal(err)
	}

	var raw bytes.Buffer
	iter := s.tc.GetWorkflowHistory(s.ctx, workflows.WorkflowID(ref), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	events := 0
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		events++
		b, _ := proto.Marshal(ev) // payloads are plain JSON bytes inside the wire form
		raw.Write(b)
	}
	desc, err := s.tc.DescribeWorkflowExecution(s.ctx, workflows.WorkflowID(ref), "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := proto.Marshal(desc)
	raw.Write(b)
	state, err := s.c.State(s.ctx, s.merchant, ref)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(state)
	raw.Write(b)

	if events < 10 || !bytes.Contains(raw.Bytes(), []byte(cus.Ref)) {
		t.Fatalf("the history read is not the purchase's: %d events, customer reference found: %v", events,
			bytes.Contains(raw.Bytes(), []byte(cus.Ref)))
	}
	low := bytes.ToLower(raw.Bytes())
	for _, pii := range []string{email, name} {
		if bytes.Contains(low, bytes.ToLower([]byte(pii))) {
			t.Errorf("the purchase's history carries %q", pii)
		}
	}
}
