package devenv

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// SearchAttributes are the custom search attributes the dev server registers, so operators can
// filter purchases in the Temporal UI (e.g. `PurchaseStatus = "past_due"`). The names must match
// the typed keys the workflows set; production clusters register the same set.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	"CustomerRef":    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"ProductRef":     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"PlanRef":        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"PurchaseStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"NextBillingAt":  enumspb.INDEXED_VALUE_TYPE_DATETIME,
	"MerchantRef":    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
}

// ensureSearchAttributes waits for the frontend to answer and adds any search attribute missing
// from the namespace. CreateNamespaces only registers them when it creates the namespace, so a
// data directory from before an attribute was added would otherwise never get it.
func (t *Temporal) ensureSearchAttributes(ctx context.Context, logger *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  t.FrontendAddress(),
		Namespace: t.namespace,
		Logger:    sdklog.NewStructuredLogger(Quiet(logger)),
	})
	if err != nil {
		return fmt.Errorf("temporal: dial own frontend %s: %w", t.FrontendAddress(), err)
	}
	defer c.Close()
	resp, err := c.OperatorService().ListSearchAttributes(ctx,
		&operatorservice.ListSearchAttributesRequest{Namespace: t.namespace})
	if err != nil {
		return fmt.Errorf("temporal: list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range SearchAttributes {
		have, ok := resp.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = typ
		case have != typ:
			return fmt.Errorf("temporal: search attribute %s is %s in namespace %q, want %s (remove the data dir to reset)",
				name, have, t.namespace, typ)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx,
		&operatorservice.AddSearchAttributesRequest{Namespace: t.namespace, SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("temporal: add search attributes: %w", err)
	}
	return nil
}
