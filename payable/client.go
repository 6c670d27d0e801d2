// Package payable puts a Tollgate paywall in front of Go HTTP handlers, following seed 003's
// paywall flow: resolve the customer, check the usage limits, run the handler, record the usage
// with its outcome, and answer HTTP 402 with a checkout link when the customer must pay.
//
// It speaks to Tollgate's REST API only (a base URL and an API key), so a merchant imports it
// without the rest of Tollgate.
package payable

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client calls the usage endpoints of the Tollgate REST API.
type Client struct {
	BaseURL string // e.g. https://billing.example.com
	APIKey  string // sk_sandbox_… or sk_live_…
	// HTTP is the client used; nil means one with a 5 s timeout (a paywall must never hang).
	HTTP *http.Client
}

// NewClient returns a client for the API at baseURL.
func NewClient(baseURL, apiKey string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), APIKey: apiKey}
}

var defaultHTTP = &http.Client{Timeout: 5 * time.Second}

// LimitsRequest is check_limits. Units is how many units the caller is about to use; 0 is left
// out of the request, so the API checks its default of 1.
type LimitsRequest struct {
	CustomerRef string `json:"customerRef"`
	ProductRef  string `json:"productRef"`
	MeterName   string `json:"meterName,omitempty"`
	Units       int64  `json:"units,omitempty"`
}

// Limits is the answer of check_limits. Limit and Remaining are nil when unlimited.
type Limits struct {
	WithinLimits bool       `json:"withinLimits"`
	Used         int64      `json:"used"`
	Limit        *int64     `json:"limit"`
	Remaining    *int64     `json:"remaining"`
	FreeUnits    int64      `json:"freeUnits"`
	MeterName    string     `json:"meterName"`
	PeriodStart  time.Time  `json:"periodStart"`
	PeriodEnd    *time.Time `json:"periodEnd"`
	CustomerRef  string     `json:"customerRef"`
	ProductRef   string     `json:"productRef"`
	PlanRef      string     `json:"planRef,omitempty"`
	PurchaseRef  string     `json:"purchaseRef,omitempty"`
	Reason       string     `json:"reason,omitempty"`
	CheckoutURL  string     `json:"checkoutUrl,omitempty"`
}

// Usage is record_usage (seed 003's trackUsage payload).
type Usage struct {
	CustomerRef    string            `json:"customerRef"`
	ProductRef     string            `json:"productRef,omitempty"`
	ActionType     string            `json:"actionType,omitempty"`
	MeterName      string            `json:"meterName,omitempty"`
	Units          int64             `json:"units"`
	Outcome        string            `json:"outcome,omitempty"`
	IdempotencyKey string            `json:"idempotencyKey,omitempty"`
	Timestamp      *time.Time        `json:"timestamp,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

// Recorded is the answer of record_usage; Duplicate is set when the idempotency key was seen.
type Recorded struct {
	Reference   string    `json:"reference"`
	Duplicate   bool      `json:"duplicate"`
	CustomerRef string    `json:"customerRef"`
	MeterName   string    `json:"meterName"`
	PeriodStart time.Time `json:"periodStart"`
}

// APIError is an error answer of the API in its one error shape.
type APIError struct {
	Status     int
	Code       string `json:"code"`
	Message    string `json:"message"`
	Field      string `json:"field"`
	RetryAfter string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("tollgate: %d %s: %s", e.Status, e.Code, e.Message)
}

// Temporary reports a failure worth retrying (Tollgate or its database briefly unavailable).
func (e *APIError) Temporary() bool {
	return e.Status >= 500
}

// CheckLimits asks whether the customer may use the product now.
func (c *Client) CheckLimits(ctx context.Context, req LimitsRequest) (*Limits, error) {
	var out Limits
	return &out, c.post(ctx, "/v1/limits", req, &out)
}

// TrackUsage records one usage event. Set IdempotencyKey so a retry counts once.
func (c *Client) TrackUsage(ctx context.Context, u Usage) (*Recorded, error) {
	var out Recorded
	return &out, c.post(ctx, "/v1/usages", u, &out)
}

// TrackBulkUsage records up to 1,000 events in one call.
func (c *Client) TrackBulkUsage(ctx context.Context, events []Usage) error {
	return c.post(ctx, "/v1/usages/bulk", map[string]any{"events": events}, nil)
}

func (c *Client) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("tollgate %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("tollgate %s: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		var shape struct {
			Error APIError `json:"error"`
		}
		_ = json.Unmarshal(raw, &shape)
		e := shape.Error
		e.Status, e.RetryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		if e.Code == "" {
			e.Message = strings.TrimSpace(string(raw))
		}
		return &e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("tollgate %s: %w", path, err)
	}
	return nil
}

// IsTemporary reports whether err is a Tollgate failure worth retrying, or a network one.
func IsTemporary(err error) bool {
	var e *APIError
	if errors.As(err, &e) {
		return e.Temporary()
	}
	return err != nil
}
