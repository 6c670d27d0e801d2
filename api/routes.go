package api

// registerRoutes is the one place every route is declared. Handlers live in files named after
// their resource. Keep /openapi.json (openapi.go) in step: a test holds the two together.
func (s *Server) registerRoutes() {
	s.handlePublic("GET /healthz", s.healthz)
	s.handlePublic("GET /readyz", s.readyz)

	// Customers, Solvimon admin face (seed 002)
	s.handle("GET /v1/customers", s.listCustomers)
	s.handle("POST /v1/customers", s.createCustomer)
	s.handle("GET /v1/customers/{ref}", s.getCustomer)
	s.handle("POST /v1/customers/{ref}/activate", s.activateCustomer)
}
