package mcp

import (
	"context"
	"fmt"
	"strings"
)

type productView struct {
	Reference   string     `json:"reference"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Status      string     `json:"status"`
	Plans       []planView `json:"plans"`
}

type planView struct {
	Reference    string `json:"reference"`
	ProductRef   string `json:"productRef"`
	Name         string `json:"name"`
	Type         string `json:"type"`
	Price        int64  `json:"price"`
	Currency     string `json:"currency"`
	BillingCycle string `json:"billingCycle"`
	CycleDays    int    `json:"cycleDays"`
	TrialDays    int    `json:"trialDays"`
	FreeUnits    int64  `json:"freeUnits"`
	Limit        *int64 `json:"limit"`
	UnitPrice    int64  `json:"unitPrice"`
	MeterName    string `json:"meterName"`
	IsDefault    bool   `json:"isDefault"`
	Status       string `json:"status"`
}

func (p planView) oneLine() string {
	s := fmt.Sprintf("%s (%s): %s, %s", p.Name, p.Reference,
		planPrice(p.Type, p.Price, p.UnitPrice, p.Currency, p.BillingCycle, p.CycleDays), p.Status)
	if p.FreeUnits > 0 {
		s += fmt.Sprintf(", %d free %s", p.FreeUnits, unitWord(p.MeterName))
	}
	if p.Limit != nil {
		s += fmt.Sprintf(", limit %d per period", *p.Limit)
	}
	if p.TrialDays > 0 {
		s += fmt.Sprintf(", %d-day trial", p.TrialDays)
	}
	if p.IsDefault {
		s += ", default plan"
	}
	return s
}

var catalogStatus = []string{"active", "inactive", "archived"}

var planTypes = []string{"recurring", "usage-based", "hybrid", "one-time", "free"}

func productTools() []tool {
	return []tool{
		{name: "create_product", title: "Create a product",
			desc: "Create a product: the API, app, AI agent or MCP server the merchant sells. Answers its reference (prd_…). " +
				"Add plans to it with create_plan.",
			params: []param{
				{name: "name", typ: tString, required: true, desc: "Product name, e.g. \"support-bot\"."},
				{name: "description", typ: tString, desc: "What the product does, e.g. \"Customer support automation\"."},
				{name: "status", typ: tString, enum: catalogStatus, desc: "active (default), inactive or archived."},
				metadataParam},
			run: createProduct},
		{name: "get_product", title: "Get a product",
			desc:   "Get a product with its plans.",
			params: []param{productRef(true)}, readOnly: true, run: getProduct},
		{name: "list_products", title: "List products",
			desc: "List the merchant's products, optionally by status or searched by name, description or reference.",
			params: withPaging(
				param{name: "status", typ: tString, enum: catalogStatus, desc: "Only products in this status."},
				param{name: "search", typ: tString, desc: "Text to find in the name, description or reference."}),
			readOnly: true, run: listProducts},
		{name: "update_product", title: "Update a product",
			desc: "Change a product's name, description, status or metadata. Only the fields sent change.",
			params: []param{productRef(true),
				{name: "name", typ: tString, desc: "New name."},
				{name: "description", typ: tString, desc: "New description."},
				{name: "status", typ: tString, enum: catalogStatus, desc: "active, inactive or archived."},
				metadataParam},
			idempotent: true, run: updateProduct},
		{name: "delete_product", title: "Delete a product",
			desc:   "Delete a product and its plans. Running purchases keep the plan they were bought with.",
			params: []param{productRef(true)}, destructive: true, idempotent: true, run: deleteProduct},
	}
}

func createProduct(ctx context.Context, c *call, a args) (string, any, error) {
	var p productView
	out, err := c.post(ctx, path("products"), a.body("name", "description", "status", "metadata"), &p)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("I've created the product:\nProduct: %s (%s)", p.Name, p.Reference), out, nil
}

func getProduct(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("productRef")
	if err != nil {
		return "", nil, err
	}
	var p productView
	out, err := c.get(ctx, path("products", ref), nil, &p)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Product: %s (%s), %s", p.Name, p.Reference, p.Status)
	if p.Description != "" {
		fmt.Fprintf(&b, "\n%s", p.Description)
	}
	if len(p.Plans) == 0 {
		b.WriteString("\nNo plans yet.")
	} else {
		fmt.Fprintf(&b, "\nPlans:")
		for _, pl := range p.Plans {
			b.WriteString("\n- " + pl.oneLine())
		}
	}
	return b.String(), out, nil
}

func listProducts(ctx context.Context, c *call, a args) (string, any, error) {
	var list struct {
		listPage
		Data []productView `json:"data"`
	}
	out, err := c.get(ctx, path("products"), a.query("status", "search", "page", "limit"), &list)
	if err != nil {
		return "", nil, err
	}
	lines := make([]string, len(list.Data))
	for i, p := range list.Data {
		lines[i] = fmt.Sprintf("%s (%s), %s", p.Name, p.Reference, p.Status)
	}
	return listText("products", list.Total, list.Page, list.Limit, lines), out, nil
}

func updateProduct(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("productRef")
	if err != nil {
		return "", nil, err
	}
	var p productView
	out, err := c.patch(ctx, path("products", ref), a.body("name", "description", "status", "metadata"), &p)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("The product has been updated: %s (%s), %s.", p.Name, p.Reference, p.Status), out, nil
}

func deleteProduct(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("productRef")
	if err != nil {
		return "", nil, err
	}
	out, err := c.del(ctx, path("products", ref), nil)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("Product %s and its plans have been deleted.", a.str("productRef")), out, nil
}

// planFields are the plan's own fields, for create and update.
func planFields(create bool) []param {
	return []param{
		{name: "name", typ: tString, required: create, desc: "Plan name, e.g. \"Pro\"."},
		{name: "type", typ: tString, required: create, enum: planTypes,
			desc: "recurring (fixed price per cycle), usage-based (pay per unit of a meter), hybrid (recurring fee plus usage overage), one-time, or free."},
		{name: "price", typ: tInteger, desc: "Price per cycle (recurring, hybrid) or once (one-time), in minor units: 4900 = $49.00."},
		{name: "currency", typ: tString, desc: "ISO 4217 currency, e.g. USD (default USD)."},
		{name: "billingCycle", typ: tString, enum: []string{"weekly", "monthly", "quarterly", "yearly", "custom"},
			desc: "How often a recurring, hybrid or usage-based plan renews (default monthly); custom uses cycleDays."},
		{name: "cycleDays", typ: tInteger, desc: "Length of a custom billing cycle in days."},
		{name: "trialDays", typ: tInteger, desc: "Free trial length in days before the first charge."},
		{name: "freeUnits", typ: tInteger, desc: "Units of the meter included free each period."},
		{name: "limit", typ: tInteger, desc: "Hard usage limit per period (check_limits blocks past it); omit for unlimited" +
			func() string {
				if create {
					return "."
				}
				return ", or send null to remove it."
			}()},
		{name: "unitPrice", typ: tInteger, desc: "Price per billable unit in minor units (usage-based and hybrid)."},
		{name: "meterName", typ: tString, desc: "Meter the plan counts: api_requests, requests, api_calls, tokens, tool:{toolName} or a custom meter."},
		{name: "setupFee", typ: tInteger, desc: "One-off fee charged with the first payment, in minor units."},
		{name: "accessDays", typ: tInteger, desc: "One-time plans: access lasts this many days (0 = lifetime)."},
		{name: "features", typ: tArray, items: map[string]any{"type": "string"}, desc: "Feature lines shown to customers."},
		{name: "isDefault", typ: tBoolean, desc: "Make this the product's default plan (one per product)."},
		{name: "status", typ: tString, enum: catalogStatus, desc: "active (default), inactive or archived."},
	}
}

var planBodyFields = paramNames(planFields(true))

func planTools() []tool {
	both := func(extra ...param) []param {
		return append([]param{productRef(true), planRef(true, "")}, extra...)
	}
	return []tool{
		{name: "create_plan", title: "Create a plan",
			desc:   "Add a pricing plan to a product. Money is in minor units (4900 = $49.00). Answers the plan's reference (pln_…).",
			params: append([]param{productRef(true)}, planFields(true)...), run: createPlan},
		{name: "get_plan", title: "Get a plan",
			desc:   "Get one plan of a product.",
			params: both(), readOnly: true, run: getPlan},
		{name: "list_plans", title: "List plans",
			desc: "List a product's plans, optionally by status or type.",
			params: withPaging(productRef(true),
				param{name: "status", typ: tString, enum: catalogStatus, desc: "Only plans in this status."},
				param{name: "type", typ: tString, enum: planTypes, desc: "Only plans of this type."}),
			readOnly: true, run: listPlans},
		{name: "update_plan", title: "Update a plan",
			desc:   "Change a plan's fields; only the fields sent change. Running purchases keep the terms they were bought with.",
			params: both(planFields(false)...), idempotent: true, run: updatePlan},
		{name: "delete_plan", title: "Delete a plan",
			desc:   "Delete a plan. Running purchases keep the plan they were bought with.",
			params: both(), destructive: true, idempotent: true, run: deletePlan},
	}
}

func createPlan(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("productRef")
	if err != nil {
		return "", nil, err
	}
	var p planView
	out, err := c.post(ctx, path("products", ref, "plans"), a.body(planBodyFields...), &p)
	if err != nil {
		return "", nil, err
	}
	return "The plan has been created: " + p.oneLine(), out, nil
}

func getPlan(ctx context.Context, c *call, a args) (string, any, error) {
	prd, pln, err := productAndPlan(a)
	if err != nil {
		return "", nil, err
	}
	var p planView
	out, err := c.get(ctx, path("products", prd, "plans", pln), nil, &p)
	if err != nil {
		return "", nil, err
	}
	return "Plan: " + p.oneLine(), out, nil
}

func listPlans(ctx context.Context, c *call, a args) (string, any, error) {
	ref, err := a.ref("productRef")
	if err != nil {
		return "", nil, err
	}
	var list struct {
		listPage
		Data []planView `json:"data"`
	}
	out, err := c.get(ctx, path("products", ref, "plans"), a.query("status", "type", "page", "limit"), &list)
	if err != nil {
		return "", nil, err
	}
	lines := make([]string, len(list.Data))
	for i, p := range list.Data {
		lines[i] = p.oneLine()
	}
	return listText("plans", list.Total, list.Page, list.Limit, lines), out, nil
}

func updatePlan(ctx context.Context, c *call, a args) (string, any, error) {
	prd, pln, err := productAndPlan(a)
	if err != nil {
		return "", nil, err
	}
	var p planView
	out, err := c.patch(ctx, path("products", prd, "plans", pln), a.body(planBodyFields...), &p)
	if err != nil {
		return "", nil, err
	}
	return "The plan has been updated: " + p.oneLine(), out, nil
}

func deletePlan(ctx context.Context, c *call, a args) (string, any, error) {
	prd, pln, err := productAndPlan(a)
	if err != nil {
		return "", nil, err
	}
	out, err := c.del(ctx, path("products", prd, "plans", pln), nil)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("Plan %s has been deleted.", a.str("planRef")), out, nil
}

func productAndPlan(a args) (string, string, error) {
	prd, err := a.ref("productRef")
	if err != nil {
		return "", "", err
	}
	pln, err := a.ref("planRef")
	return prd, pln, err
}
