package api

// registerRoutes is the one place every route is declared. Handlers live in files named after
// their resource. Keep /openapi.json (openapi_routes.go) in step: a test holds the two together.
func (s *Server) registerRoutes() {
	s.handlePublic("GET /healthz", s.healthz)
	s.handlePublic("GET /readyz", s.readyz)
	s.handlePublic("GET /openapi.json", s.serveOpenAPI)

	// Customers, Solvimon admin face (seed 002)
	s.handle("GET /v1/customers", s.listCustomers)
	s.handle("POST /v1/customers", s.createCustomer)
	s.handle("GET /v1/customers/{ref}", s.getCustomer)
	s.handle("POST /v1/customers/{ref}/activate", s.activateCustomer)
	s.handle("POST /v1/customers/{ref}/payment-method", s.setPaymentMethod)

	// Customers, SolvaPay SDK face (seed 003): one model, second serialisation
	s.handle("GET /v1/sdk/customers", s.listSDKCustomers)
	s.handle("POST /v1/sdk/customers", s.createSDKCustomer)
	s.handle("POST /v1/sdk/customers/ensure", s.ensureSDKCustomer)
	s.handle("GET /v1/sdk/customers/{ref}", s.getSDKCustomer)
	s.handle("PATCH /v1/sdk/customers/{ref}", s.updateSDKCustomer)
	s.handle("DELETE /v1/sdk/customers/{ref}", s.deleteSDKCustomer)
	s.handle("GET /v1/sdk/merchant", s.getSDKMerchant)
	s.handle("GET /v1/sdk/platform-config", s.getPlatformConfig)
	s.handle("GET /v1/sdk/payment-method", s.getSDKPaymentMethod)

	// Catalog: products with their plans nested under them
	s.handle("GET /v1/products", s.listProducts)
	s.handle("POST /v1/products", s.createProduct)
	s.handle("GET /v1/products/{ref}", s.getProduct)
	s.handle("PATCH /v1/products/{ref}", s.updateProduct)
	s.handle("DELETE /v1/products/{ref}", s.deleteProduct)
	s.handle("GET /v1/products/{ref}/balance", s.getProductBalance)
	s.handle("GET /v1/products/{ref}/plans", s.listPlans)
	s.handle("POST /v1/products/{ref}/plans", s.createPlan)
	s.handle("GET /v1/products/{ref}/plans/{planRef}", s.getPlan)
	s.handle("PATCH /v1/products/{ref}/plans/{planRef}", s.updatePlan)
	s.handle("DELETE /v1/products/{ref}/plans/{planRef}", s.deletePlan)

	// Purchases (projections of the purchase workflows)
	s.handle("GET /v1/purchases", s.listPurchases)
	s.handle("GET /v1/purchases/{ref}", s.getPurchase)
	s.handle("POST /v1/purchases/{ref}/cancel-renewal", s.cancelRenewal)
	s.handle("POST /v1/purchases/{ref}/reactivate", s.reactivateRenewal)
	s.handle("POST /v1/purchases/{ref}/change-plan", s.changePlan)
	s.handle("POST /v1/purchases/{ref}/change-plan/preview", s.previewChangePlan)
	s.handle("POST /v1/purchases/{ref}/cancel-scheduled-change", s.cancelScheduledChange)
	s.handle("POST /v1/purchases/{ref}/retry-payment", s.retryPayment)
	s.handle("POST /v1/purchases/{ref}/pause", s.pausePurchase)
	s.handle("POST /v1/purchases/{ref}/resume", s.resumePurchase)
	s.handle("POST /v1/purchases/{ref}/advance-clock", s.advanceClock)
	s.handle("POST /v1/activate-plan", s.activatePlan)

	// Money
	s.handle("GET /v1/transactions", s.listTransactions)
	s.handle("GET /v1/transactions/stats", s.getTransactionStats)
	s.handle("GET /v1/transactions/{ref}", s.getTransaction)
	s.handle("POST /v1/refunds", s.createRefund)

	// The sandbox's later outcomes, sent through the webhook handler (sandbox keys only)
	s.handle("POST /v1/sandbox/transactions/{ref}/settle", s.settleSandboxPayment)
	s.handle("POST /v1/sandbox/transactions/{ref}/dispute", s.openSandboxDispute)
	s.handle("POST /v1/sandbox/transactions/{ref}/dispute/close", s.closeSandboxDispute)

	// Invoices and credit notes: the documents of the money (issued with it, never by a request)
	s.handle("GET /v1/invoices", s.listInvoices)
	s.handle("GET /v1/invoices/{ref}", s.getInvoice)
	s.handle("GET /v1/invoices/{ref}/pdf", s.getInvoicePDF)
	s.handle("POST /v1/invoices/{ref}/void", s.voidInvoice)
	s.handle("GET /v1/credit-notes", s.listCreditNotes)
	s.handle("GET /v1/credit-notes/{ref}", s.getCreditNote)
	s.handle("GET /v1/credit-notes/{ref}/pdf", s.getCreditNotePDF)
	s.handle("GET /v1/tax-rates", s.listTaxRates)
	s.handle("POST /v1/tax-rates", s.createTaxRate)
	s.handle("GET /v1/tax-rates/{ref}", s.getTaxRate)
	s.handle("POST /v1/tax-rates/{ref}/archive", s.archiveTaxRate)

	// The merchant's settings
	s.handle("GET /v1/settings/dunning", s.getDunning)
	s.handle("PATCH /v1/settings/dunning", s.updateDunning)
	s.handle("GET /v1/settings/disputes", s.getDisputes)
	s.handle("PATCH /v1/settings/disputes", s.updateDisputes)
	s.handle("GET /v1/settings/invoices", s.getInvoiceSettings)
	s.handle("PATCH /v1/settings/invoices", s.updateInvoiceSettings)

	// Events (an outbox written with each change) and the merchant's webhook endpoints
	s.handle("GET /v1/events", s.listEvents)
	s.handle("GET /v1/events/{ref}", s.getEvent)
	s.handle("GET /v1/webhook-endpoints", s.listWebhookEndpoints)
	s.handle("POST /v1/webhook-endpoints", s.createWebhookEndpoint)
	s.handle("GET /v1/webhook-endpoints/{ref}", s.getWebhookEndpoint)
	s.handle("PATCH /v1/webhook-endpoints/{ref}", s.updateWebhookEndpoint)
	s.handle("DELETE /v1/webhook-endpoints/{ref}", s.deleteWebhookEndpoint)
	s.handle("POST /v1/webhook-endpoints/{ref}/rotate-secret", s.rotateWebhookSecret)
	s.handle("GET /v1/webhook-endpoints/{ref}/deliveries", s.listWebhookDeliveries)
	s.handle("POST /v1/events/{ref}/redeliver", s.redeliverEvent)

	// Inbound processor events: signed by the processor, not sent with an API key
	s.handlePublic("POST /v1/webhooks/stripe", s.stripeWebhook)
	s.handlePublic("POST /v1/webhooks/stripe/{merchant}", s.merchantStripeWebhook)

	// Hosted pages' sessions
	s.handle("POST /v1/checkout-sessions", s.createCheckoutSession)
	s.handle("POST /v1/customer-sessions", s.createCustomerSession)

	// Usage, limits and meters: the hot path (usages.go, limits.go, meters.go)
	s.handle("POST /v1/usages", s.recordUsage)
	s.handle("POST /v1/usages/bulk", s.recordBulkUsage)
	s.handle("POST /v1/limits", s.checkLimits)
	s.handle("GET /v1/meters", s.listMeters)
	s.handle("POST /v1/meters", s.createMeter)
	s.handle("GET /v1/meters/{ref}", s.getMeter)
	s.handle("DELETE /v1/meters/{ref}", s.deleteMeter)
}
