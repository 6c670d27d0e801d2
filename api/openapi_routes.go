package api

import (
	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/usage"
)

// OpenAPI operations of the customers, catalog, purchases, money and session routes.

var customerFilters = []param{
	{Name: "search", Description: "substring of name, email or a reference"},
	{Name: "email", Description: "exact email, case-insensitive"},
}

var _ = document(
	op{Route: "GET /healthz", Summary: "Liveness", Tag: "meta", Public: true, Out: map[string]string{}},
	op{Route: "GET /readyz", Summary: "Readiness: Postgres and Temporal answer", Tag: "meta", Public: true, Out: map[string]string{}},

	// admin face (seed 002)
	op{Route: "GET /v1/customers", Summary: "List customers (Solvimon admin face)", Tag: "customers", List: true, Out: adminCustomer{},
		Query: append([]param{{Name: "reference", Description: "the merchant's own reference"}, {Name: "status", Description: "DRAFT or ACTIVE"}}, customerFilters...)},
	op{Route: "POST /v1/customers", Summary: "Create a customer (Solvimon admin face; starts DRAFT)", Tag: "customers",
		Body: adminCustomerInput{}, Out: adminCustomer{}, Status: 201},
	op{Route: "GET /v1/customers/{ref}", Summary: "Get a customer by cus_ reference or the merchant's reference", Tag: "customers", Out: adminCustomer{}},
	op{Route: "POST /v1/customers/{ref}/activate", Summary: "Activate a DRAFT customer", Tag: "customers", Out: adminCustomer{}},
	op{Route: "POST /v1/customers/{ref}/payment-method", Summary: "Attach a payment method at the processor of the key's mode (sandbox keys: the sandbox) and make it the customer's default", Tag: "customers",
		Body: paymentMethodInput{}, Required: []string{"paymentMethod"}, Out: paymentMethodView{}},

	// SDK face (seed 003)
	op{Route: "GET /v1/sdk/customers", Summary: "List customers (SDK face)", Tag: "sdk", List: true, Out: sdkCustomer{},
		Query: append([]param{{Name: "externalRef", Description: "the merchant's own id"}}, customerFilters...)},
	op{Route: "POST /v1/sdk/customers", Summary: "Create a customer; an existing email with an externalRef is adopted (200), without one is 409", Tag: "sdk",
		Body: sdkCustomerInput{}, Required: []string{"email"}, Out: sdkCustomer{}, Status: 201},
	op{Route: "POST /v1/sdk/customers/ensure", Summary: "Ensure a customer by externalRef or email: the existing one (200) or a new one (201)", Tag: "sdk",
		Body: sdkCustomerInput{}, Required: []string{"email"}, Out: sdkCustomer{}, Status: 201},
	op{Route: "GET /v1/sdk/customers/{ref}", Summary: "Get a customer by cus_ reference or externalRef", Tag: "sdk", Out: sdkCustomer{}},
	op{Route: "PATCH /v1/sdk/customers/{ref}", Summary: "Change only the fields supplied", Tag: "sdk", Body: sdkCustomerPatch{}, Out: sdkCustomer{}},
	op{Route: "DELETE /v1/sdk/customers/{ref}", Summary: "Delete a customer with no running purchase", Tag: "sdk", Out: deleted{}},
	op{Route: "GET /v1/sdk/merchant", Summary: "Provider identity for checkout and mandate copy", Tag: "sdk", Out: sdkMerchant{}},
	op{Route: "GET /v1/sdk/platform-config", Summary: "Browser-safe platform values for the key's environment", Tag: "sdk", Out: platformConfig{}},
	op{Route: "GET /v1/sdk/payment-method", Summary: "The customer's card ({kind: card, …}) or {kind: none}", Tag: "sdk", Out: paymentMethodView{},
		Query: []param{{Name: "customerRef", Description: "cus_ reference or externalRef (or customerId)", Required: true}}},

	// catalog
	op{Route: "GET /v1/products", Summary: "List products", Tag: "products", List: true, Out: domain.Product{},
		Query: []param{{Name: "status", Description: "active, inactive or archived"}, {Name: "search", Description: "substring of name, description or reference"}}},
	op{Route: "POST /v1/products", Summary: "Create a product", Tag: "products", Body: productInput{}, Required: []string{"name"}, Out: productView{}, Status: 201},
	op{Route: "GET /v1/products/{ref}", Summary: "Get a product with its plans", Tag: "products", Out: productView{}},
	op{Route: "PATCH /v1/products/{ref}", Summary: "Change only the fields supplied", Tag: "products", Body: productPatch{}, Out: domain.Product{}},
	op{Route: "DELETE /v1/products/{ref}", Summary: "Delete a product and its plans (running purchases keep their plan)", Tag: "products", Out: deleted{}},
	op{Route: "GET /v1/products/{ref}/balance", Summary: "What the product has earned, in minor units", Tag: "products", Out: productBalance{}},
	op{Route: "GET /v1/products/{ref}/plans", Summary: "List a product's plans", Tag: "plans", List: true, Out: domain.Plan{},
		Query: []param{{Name: "status", Description: "active, inactive or archived"}, {Name: "type", Description: "recurring, usage-based, hybrid, one-time or free"}}},
	op{Route: "POST /v1/products/{ref}/plans", Summary: "Create a plan (the product's first becomes its default)", Tag: "plans",
		Body: planInput{}, Required: []string{"name", "type"}, Out: domain.Plan{}, Status: 201},
	op{Route: "GET /v1/products/{ref}/plans/{planRef}", Summary: "Get a plan", Tag: "plans", Out: domain.Plan{}},
	op{Route: "PATCH /v1/products/{ref}/plans/{planRef}", Summary: "Change only the fields supplied (limit: null removes the limit)", Tag: "plans",
		Body: planPatch{}, Out: domain.Plan{}},
	op{Route: "DELETE /v1/products/{ref}/plans/{planRef}", Summary: "Delete a plan (running purchases keep it)", Tag: "plans", Out: deleted{}},

	// purchases
	op{Route: "GET /v1/purchases", Summary: "List purchases, newest first", Tag: "purchases", List: true, Out: purchaseView{},
		Query: []param{
			{Name: "status", Description: "pending, trialing, active, pending_cancellation, past_due, suspended, paused, cancelled, expired or refunded"},
			{Name: "customerRef", Description: "cus_ reference or externalRef (or customerId)"},
			{Name: "productRef", Description: "prd_ reference (or productReference)"},
			{Name: "planRef", Description: "pln_ reference"}}},
	op{Route: "GET /v1/purchases/{ref}", Summary: "Get a purchase", Tag: "purchases", Out: purchaseView{}},
	op{Route: "POST /v1/purchases/{ref}/cancel-renewal", Summary: "Cancel renewal: access runs to the period end (pending cancellation)", Tag: "purchases",
		Body: cancelRenewalInput{}, Out: purchaseView{}},
	op{Route: "POST /v1/purchases/{ref}/reactivate", Summary: "Undo a cancellation before the period ends", Tag: "purchases", Out: purchaseView{}},
	op{Route: "POST /v1/purchases/{ref}/change-plan", Summary: "Change plan inside the purchase: an upgrade now, prorated by the second and charged at once (a decline is 402 and changes nothing); a downgrade at the period end by default (prorationBehavior create_prorations, none or always_invoice; effective now or period_end). On a metered plan a change now also bills the old plan's usage up to it (a usage line, at the old plan's prices). quantity changes the seats of a per-seat plan (with or without planRef; one of the two is required): more seats are charged now, prorated like an upgrade, fewer take effect at the period end by default; a quantity below 1, above 1000000 or on a plan not priced per seat is 400 INVALID_FIELD naming quantity", Tag: "purchases",
		Body: changePlanInput{}, Out: changePlanAnswer{}},
	op{Route: "POST /v1/purchases/{ref}/change-plan/preview", Summary: "What change-plan with the same body would charge or credit now and at the next renewal; changes nothing. Send its prorationDate with the change to settle exactly these lines (quantity too: the preview of a change of seats)", Tag: "purchases",
		Body: changePlanInput{}, Out: previewView{}},
	op{Route: "POST /v1/purchases/{ref}/cancel-scheduled-change", Summary: "Cancel the plan change scheduled for the period end (scheduledChange)", Tag: "purchases", Out: purchaseView{}},
	op{Route: "POST /v1/purchases/{ref}/retry-payment", Summary: "Charge the unpaid period of a past-due or suspended purchase now", Tag: "purchases", Out: purchaseView{}},
	op{Route: "POST /v1/purchases/{ref}/pause", Summary: "Pause collection: status paused, nothing renews until resumed; behavior keep_access (access goes on, like Stripe's mark_uncollectible) or void (no access, like Stripe's void); resumesAt resumes on its own, anchor kept. An active purchase only: past due, trialing, pending cancellation and ended purchases are 409", Tag: "purchases",
		Body: pauseInput{}, Required: []string{"behavior"}, Out: purchaseView{}},
	op{Route: "POST /v1/purchases/{ref}/resume", Summary: "Resume a paused purchase: anchor keep (default; the next charge at the old anchor, the rest of the current period unbilled) or now (a new period starts and is charged at once; a decline is past due)", Tag: "purchases",
		Body: resumeInput{}, Out: purchaseView{}},
	op{Route: "POST /v1/purchases/{ref}/advance-clock", Summary: "Sandbox only: move the purchase's test clock (days, or to a time), playing renewals and dunning", Tag: "purchases",
		Body: advanceClockInput{}, Out: purchaseView{}},
	op{Route: "POST /v1/activate-plan", Summary: "Activate a plan without checkout: activated, already_active, topup_required, payment_required (with checkoutUrl), authentication_required (the first payment waits for the customer's 3-D Secure confirmation on payUrl; the purchase is pending until then, an hour at most) or invalid. quantity buys seats of a per-seat plan (price × quantity each period; default 1); on a live purchase of the same plan with other seats, the seats change now, prorated", Tag: "purchases",
		Body: activatePlanInput{}, Required: []string{"customerRef"}, Out: activatePlanAnswer{}},

	// money
	op{Route: "GET /v1/transactions", Summary: "List payments and refunds, newest first", Tag: "transactions", List: true, Out: domain.Transaction{},
		Query: append([]param{{Name: "status", Description: "succeeded, failed or pending"}, {Name: "type", Description: "payment or refund"}}, txnFilters...)},
	op{Route: "GET /v1/transactions/stats", Summary: "Transaction statistics for a date range", Tag: "transactions", Out: transactionStats{}, Query: txnFilters},
	op{Route: "GET /v1/transactions/{ref}", Summary: "Get a transaction", Tag: "transactions", Out: domain.Transaction{}},
	op{Route: "POST /v1/refunds", Summary: "Refund a payment, for 180 days after it was made: fully when amount is omitted, else partly (minor units)", Tag: "transactions",
		Body: refundInput{}, Required: []string{"sourceTransactionRef"}, Out: refundAnswer{}, Status: 201},

	// hosted pages
	// settings
	op{Route: "GET /v1/settings/dunning", Summary: "The dunning schedule a failed renewal starts with", Tag: "settings", Out: domain.DunningSchedule{}},
	op{Route: "PATCH /v1/settings/dunning", Summary: "Change the dunning schedule (retries ascending, grace period shorter than the last retry)", Tag: "settings",
		Body: dunningPatch{}, Out: domain.DunningSchedule{}},
	op{Route: "GET /v1/settings/disputes", Summary: "What an open dispute does to the purchase's access: suspend (default) or keep", Tag: "settings", Out: disputeSettings{}},
	op{Route: "PATCH /v1/settings/disputes", Summary: "Set what a dispute opened from now on does to access: suspend or keep", Tag: "settings",
		Body: disputeSettings{}, Required: []string{"access"}, Out: disputeSettings{}},

	op{Route: "POST /v1/checkout-sessions", Summary: "Create a hosted checkout link in the key's mode (default plan when planRef is omitted)", Tag: "sessions",
		Body: checkoutSessionInput{}, Required: []string{"customerRef", "productRef"}, Out: checkoutSessionView{}, Status: 201},
	op{Route: "POST /v1/customer-sessions", Summary: "Create a customer-portal link (expires after 15 minutes)", Tag: "sessions",
		Body: customerSessionInput{}, Required: []string{"customerRef"}, Out: customerSessionView{}, Status: 201},
)

var txnFilters = []param{
	{Name: "fromDate", Description: "YYYY-MM-DD, inclusive (UTC)"},
	{Name: "toDate", Description: "YYYY-MM-DD, inclusive (UTC)"},
	{Name: "customerRef", Description: "cus_ reference (or customerId)"},
	{Name: "productRef", Description: "prd_ reference (or productReference)"},
	{Name: "purchaseRef", Description: "pur_ reference (or purchaseId)"},
}

// Usage, limits and meters (usages.go, limits.go, meters.go).
var _ = document(
	op{Route: "POST /v1/usages", Summary: "Record a usage event (mode consume: check the limit and record in one step)", Tag: "usage",
		Body: usageInput{}, Required: []string{"customerRef"}, Out: usage.Recorded{}, Status: 201},
	op{Route: "POST /v1/usages/bulk", Summary: "Record up to 1,000 usage events, all or nothing", Tag: "usage",
		Body: bulkInput{}, Required: []string{"events"}, Out: bulkAnswer{}, Status: 201},
	op{Route: "POST /v1/limits", Summary: "Check a customer's usage limits for a product", Tag: "usage",
		Body: limitsInput{}, Required: []string{"customerRef", "productRef"}, Out: limitsAnswer{}},
	op{Route: "GET /v1/meters", Summary: "List meters (the defaults first)", Tag: "usage", List: true, Out: domain.Meter{}},
	op{Route: "POST /v1/meters", Summary: "Create a custom meter", Tag: "usage", Body: meterInput{}, Required: []string{"name"}, Out: domain.Meter{}, Status: 201},
	op{Route: "GET /v1/meters/{ref}", Summary: "Get a meter by mtr_ reference or name", Tag: "usage", Out: domain.Meter{}},
	op{Route: "DELETE /v1/meters/{ref}", Summary: "Delete a custom meter no plan counts", Tag: "usage", Status: 204},
)
