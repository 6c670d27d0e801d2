package mcp

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// sdkCustomer is the API's SDK-face customer (GET /v1/sdk/customers/{ref}).
type sdkCustomer struct {
	Reference   string  `json:"reference"`
	ExternalRef *string `json:"externalRef"`
	Email       string  `json:"email"`
	Name        string  `json:"name"`
	Status      string  `json:"status"`
}

func (c sdkCustomer) lines() string {
	var b strings.Builder
	fmt.Fprintf(&b, "- Reference: %s\n- Email: %s", c.Reference, c.Email)
	if c.Name != "" {
		fmt.Fprintf(&b, "\n- Name: %s", c.Name)
	}
	if c.ExternalRef != nil && *c.ExternalRef != "" {
		fmt.Fprintf(&b, "\n- External reference: %s", *c.ExternalRef)
	}
	return b.String()
}

func (c sdkCustomer) oneLine() string {
	s := c.Reference + " " + c.Email
	if c.Name != "" {
		s += " (" + c.Name + ")"
	}
	return s
}

var customerFields = []param{
	{name: "email", typ: tString, required: true, desc: "The customer's email address; unique per merchant."},
	{name: "name", typ: tString, desc: "The customer's full name, e.g. \"Jane Smith\"."},
	{name: "externalRef", typ: tString, desc: "The merchant's own id for this customer (e.g. the user id in their app)."},
	metadataParam,
}

func customerTools() []tool {
	return []tool{
		{name: "create_customer", title: "Create a customer",
			desc: "Create a customer with an email and optional name. Answers the new customer's reference (cus_…). " +
				"An email that already exists is refused (RESOURCE_ALREADY_EXISTS) unless externalRef is sent, which is then linked " +
				"onto the existing customer. To get-or-create safely, use ensure_customer.",
			params: customerFields, run: createCustomer},
		{name: "ensure_customer", title: "Ensure a customer exists",
			desc: "Return the customer with this email (or externalRef), creating it only if none exists. Idempotent: safe to call " +
				"repeatedly with the same email; it never creates a duplicate. The answer says whether it was created.",
			params: customerFields, idempotent: true, run: ensureCustomer},
		{name: "get_customer", title: "Get a customer",
			desc:   "Get one customer by reference (cus_…) or by the merchant's externalRef.",
			params: []param{customerRef(true)}, readOnly: true, run: getCustomer},
		{name: "list_customers", title: "List customers",
			desc: "List the merchant's customers, newest first, optionally searched by name, email or reference.",
			params: withPaging(
				param{name: "search", typ: tString, desc: "Text to find in the name, email or a reference."},
				param{name: "email", typ: tString, desc: "Only the customer with exactly this email."},
				param{name: "externalRef", typ: tString, desc: "Only the customer with this externalRef."}),
			readOnly: true, run: listCustomers},
		{name: "update_customer", title: "Update a customer",
			desc: "Change a customer's email, name, externalRef or metadata. Only the fields sent change.",
			params: []param{customerRef(true),
				{name: "email", typ: tString, desc: "New email (must not belong to another customer)."},
				{name: "name", typ: tString, desc: "New full name."},
				{name: "externalRef", typ: tString, desc: "The merchant's own id for this customer."},
				metadataParam},
			idempotent: true, run: updateCustomer},
		{name: "delete_customer", title: "Delete a customer",
			desc: "Delete a customer. Refused (CONFLICT) while the customer has purchases that have not ended; " +
				"their transactions are kept.",
			params: []param{customerRef(true)}, destructive: true, idempotent: true, run: deleteCustomer},
	}
}

func createCustomer(ctx context.Context, c *call, a args) (string, any, error) {
	var cu sdkCustomer
	out, err := c.post(ctx, path("sdk", "customers"), a.body(paramNames(customerFields)...), &cu)
	if err != nil {
		return "", nil, err
	}
	return "The customer has been created:\n" + cu.lines(), out, nil
}

func ensureCustomer(ctx context.Context, c *call, a args) (string, any, error) {
	var cu sdkCustomer
	out, err := c.post(ctx, path("sdk", "customers", "ensure"), a.body(paramNames(customerFields)...), &cu)
	if err != nil {
		return "", nil, err
	}
	// The API tells created (201) from found (200) by the status alone.
	created := c.lastStatus == http.StatusCreated
	out["created"] = created
	if created {
		return "No customer existed for " + cu.Email + ", so one has been created:\n" + cu.lines(), out, nil
	}
	return "A customer for " + cu.Email + " already exists:\n" + cu.lines() + "\n\nNo duplicate was created.", out, nil
}

func getCustomer(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("customerRef")
	if err != nil {
		return "", nil, err
	}
	var cu sdkCustomer
	out, err := c.get(ctx, path("sdk", "customers", ref), nil, &cu)
	if err != nil {
		return "", nil, err
	}
	return "Customer:\n" + cu.lines(), out, nil
}

func listCustomers(ctx context.Context, c *call, a args) (string, any, error) {
	var list struct {
		listPage
		Data []sdkCustomer `json:"data"`
	}
	out, err := c.get(ctx, path("sdk", "customers"), a.query("search", "email", "externalRef", "page", "limit"), &list)
	if err != nil {
		return "", nil, err
	}
	lines := make([]string, len(list.Data))
	for i, cu := range list.Data {
		lines[i] = cu.oneLine()
	}
	return listText("customers", list.Total, list.Page, list.Limit, lines), out, nil
}

func updateCustomer(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("customerRef")
	if err != nil {
		return "", nil, err
	}
	var cu sdkCustomer
	out, err := c.patch(ctx, path("sdk", "customers", ref), a.body("email", "name", "externalRef", "metadata"), &cu)
	if err != nil {
		return "", nil, err
	}
	return "The customer has been updated:\n" + cu.lines(), out, nil
}

func deleteCustomer(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("customerRef")
	if err != nil {
		return "", nil, err
	}
	out, err := c.del(ctx, path("sdk", "customers", ref), nil)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("Customer %s has been deleted.", a.str("customerRef")), out, nil
}
