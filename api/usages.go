package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/usage"
)

// usageTimeout bounds every database call of the usage hot path, so a client sees a 503 with
// Retry-After quickly, never a hang, while Postgres restarts.
const usageTimeout = 3 * time.Second

// usageInput is one event in the payload of seeds 000/001/003 (record_usage / trackUsage);
// customerId and productReference are seed 001's spellings.
//
// The meter an event counts on: meterName when given (a default meter, tool:{toolName}, or a
// custom meter of POST /v1/meters); else actionType when it names such a meter; else the meter
// of the customer's plan for the product (the live purchase's plan, else the default plan);
// else "api_requests". Only outcome "success" counts toward limits and billing.
type usageInput struct {
	CustomerRef      string          `json:"customerRef"`
	CustomerID       string          `json:"customerId"`
	ProductRef       string          `json:"productRef"`
	ProductReference string          `json:"productReference"`
	MeterName        string          `json:"meterName"`
	ActionType       string          `json:"actionType"`
	Units            *int64          `json:"units"`
	Outcome          string          `json:"outcome"`
	IdempotencyKey   string          `json:"idempotencyKey"`
	Timestamp        json.RawMessage `json:"timestamp"`
	Metadata         json.RawMessage `json:"metadata"`
	// Mode "consume" checks the limit and records in one step, refusing (402) past the limit.
	Mode string `json:"mode"`
}

const (
	maxEventUnits       = 1_000_000_000_000
	maxEventMetadata    = 4 << 10
	eventFutureSkew     = time.Hour
	usageModeConsume    = "consume"
	usageModeRecord     = "record"
	usageAutoKeyPrefix  = "auto_"
	maxUsageKeyLength   = 255
	maxActionTypeLength = 100
	usageOutcomeDefault = usage.OutcomeSuccess
)

var (
	usageOutcomeRe = regexp.MustCompile(`^[a-z_]{1,32}$`)
	usageMeterRe   = regexp.MustCompile(`^[A-Za-z0-9_.:\-/]{1,100}$`)
)

// event validates in and turns it into a store event. keyDefault is used when the body has no
// idempotencyKey (the request's Idempotency-Key header, so a retried request counts once).
func (in usageInput) event(now time.Time, keyDefault string) (usage.Event, error) {
	var e usage.Event
	var err error
	if e.CustomerRef, err = requiredAlias("customerRef", in.CustomerRef, "customerId", in.CustomerID); err != nil {
		return e, err
	}
	if e.ProductRef, err = alias("productRef", in.ProductRef, "productReference", in.ProductReference); err != nil {
		return e, err
	}
	e.Meter = strings.TrimSpace(in.MeterName)
	if err = checkMeterName(e.Meter); err != nil {
		return e, err
	}
	e.ActionType = strings.TrimSpace(in.ActionType)
	if len(e.ActionType) > maxActionTypeLength {
		return e, domain.Errorf(domain.CodeInvalidField, "actionType", "actionType must be at most %d characters", maxActionTypeLength)
	}
	if e.Units, err = eventUnits(in.Units); err != nil {
		return e, err
	}
	e.Outcome = strings.ToLower(strings.TrimSpace(in.Outcome))
	if e.Outcome == "" {
		e.Outcome = usageOutcomeDefault
	}
	if e.Outcome != usage.OutcomeSuccess && !usageOutcomeRe.MatchString(e.Outcome) { // the common case skips the regexp
		return e, domain.Errorf(domain.CodeInvalidField, "outcome", "outcome must be a word such as success, error or timeout")
	}
	e.IdempotencyKey = strings.TrimSpace(in.IdempotencyKey)
	if e.IdempotencyKey == "" {
		e.IdempotencyKey = keyDefault
	}
	if e.IdempotencyKey == "" {
		// Without a key a retry is a new event; the seeds' examples send none, so accept it.
		e.IdempotencyKey = usageAutoKeyPrefix + domain.RandomString(24)
	}
	if len(e.IdempotencyKey) > maxUsageKeyLength {
		return e, domain.Errorf(domain.CodeInvalidField, "idempotencyKey", "idempotencyKey must be at most %d characters", maxUsageKeyLength)
	}
	if e.OccurredAt, err = parseTimestamp(in.Timestamp, now); err != nil {
		return e, err
	}
	if m := bytes.TrimSpace(in.Metadata); len(m) > 0 && !bytes.Equal(m, []byte("null")) {
		if m[0] != '{' {
			return e, domain.Errorf(domain.CodeInvalidField, "metadata", "metadata must be a JSON object")
		}
		if len(m) > maxEventMetadata {
			return e, domain.Errorf(domain.CodeInvalidField, "metadata", "metadata must be at most %d bytes", maxEventMetadata)
		}
		e.Metadata = m
	}
	switch in.Mode {
	case "", usageModeRecord, usageModeConsume:
	default:
		return e, domain.Errorf(domain.CodeInvalidField, "mode", "mode must be record or consume")
	}
	return e, nil
}

// checkMeterName refuses a meterName that no meter could have; empty passes (the plan's meter).
func checkMeterName(name string) error {
	if name != "" && !usageMeterRe.MatchString(name) {
		return domain.Errorf(domain.CodeInvalidField, "meterName", "a meter name uses letters, digits and _ . : - / (at most 100)")
	}
	return nil
}

// eventUnits is the units of an event or a limits check: 1 when absent, else 0 to maxEventUnits.
func eventUnits(units *int64) (int64, error) {
	n := int64(1)
	if units != nil {
		n = *units
	}
	if n < 0 || n > maxEventUnits {
		return n, domain.Errorf(domain.CodeInvalidField, "units", "units must be a whole number from 0 to %d", int64(maxEventUnits))
	}
	return n, nil
}

// parseTimestamp accepts RFC 3339 or Unix milliseconds; absent is now. Events may not come from
// more than an hour ahead (a client clock gone wrong would otherwise count in a future period).
func parseTimestamp(raw json.RawMessage, now time.Time) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return now, nil
	}
	var t time.Time
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return t, domain.Errorf(domain.CodeInvalidField, "timestamp", "timestamp must be an RFC 3339 time or Unix milliseconds")
		}
		var err error
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return t, domain.Errorf(domain.CodeInvalidField, "timestamp", "timestamp must be an RFC 3339 time such as 2026-02-11T09:30:00Z, not %q", s)
		}
	} else {
		ms, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return t, domain.Errorf(domain.CodeInvalidField, "timestamp", "timestamp must be an RFC 3339 time or Unix milliseconds")
		}
		t = time.UnixMilli(ms)
	}
	if t.After(now.Add(eventFutureSkew)) {
		return t, domain.Errorf(domain.CodeInvalidField, "timestamp", "timestamp is more than an hour in the future")
	}
	if t.Year() < 2000 {
		return t, domain.Errorf(domain.CodeInvalidField, "timestamp", "timestamp is before the year 2000")
	}
	return t.UTC(), nil
}

// recordUsage is POST /v1/usages (record_usage): 201 with the new event's reference, 200 with
// the original reference when the idempotencyKey was seen before (counted once).
func (s *Server) recordUsage(w http.ResponseWriter, r *http.Request) error {
	var in usageInput
	if err := decodeUsage(w, r, &in); err != nil {
		return err
	}
	e, err := in.event(time.Now(), r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), usageTimeout)
	defer cancel()
	if in.Mode == usageModeConsume {
		return s.consumeUsage(ctx, w, r, e)
	}
	rec, err := s.usage.Record(ctx, merchantOf(r), e)
	if err != nil {
		return unwrapEventError(err, "")
	}
	status := http.StatusCreated
	if rec.Duplicate {
		status = http.StatusOK
	}
	writeJSONFast(w, status, rec)
	return nil
}

// bulkInput is POST /v1/usages/bulk: {"events":[…]} or a bare array of events.
type bulkInput struct {
	Events []usageInput `json:"events"`
}

// bulkAnswer counts what a bulk call did; data lists each event in request order.
type bulkAnswer struct {
	Recorded   int              `json:"recorded"`
	Duplicates int              `json:"duplicates"`
	Data       []usage.Recorded `json:"data"`
}

// recordBulkUsage is POST /v1/usages/bulk (record_bulk_usage): up to 1,000 events in one
// statement, all or nothing; an invalid event is named as events[i].field.
func (s *Server) recordBulkUsage(w http.ResponseWriter, r *http.Request) error {
	var in bulkInput
	if err := decodeBulk(w, r, &in); err != nil {
		return err
	}
	if len(in.Events) == 0 {
		return domain.Errorf(domain.CodeMissingField, "events", "events is required: an array of 1 to %d usage events", usage.MaxBulkEvents)
	}
	if len(in.Events) > usage.MaxBulkEvents {
		return domain.Errorf(domain.CodeInvalidField, "events", "at most %d events per call, not %d", usage.MaxBulkEvents, len(in.Events))
	}
	now := time.Now()
	events := make([]usage.Event, len(in.Events))
	for i, ev := range in.Events {
		if ev.Mode == usageModeConsume {
			return domain.Errorf(domain.CodeInvalidField, fmt.Sprintf("events[%d].mode", i), "consume mode is for single events (POST /v1/usages)")
		}
		e, err := ev.event(now, "")
		if err != nil {
			return unwrapEventError(&usage.EventError{Index: i, Err: domain.AsError(err)}, "events")
		}
		events[i] = e
	}
	ctx, cancel := context.WithTimeout(r.Context(), usageTimeout)
	defer cancel()
	recs, err := s.usage.RecordMany(ctx, merchantOf(r), events)
	if err != nil {
		return unwrapEventError(err, "events")
	}
	out := bulkAnswer{Data: recs}
	for _, rec := range recs {
		if rec.Duplicate {
			out.Duplicates++
		} else {
			out.Recorded++
		}
	}
	writeJSONFast(w, http.StatusCreated, out)
	return nil
}

// bulkField points the JSON decoding errors of a bulk body at events (decodeBulk).
func bulkField(err error) error {
	if e := domain.AsError(err); e != nil && e.Field != "" && e.Field != "body" && !strings.HasPrefix(e.Field, "events") {
		sep := "."
		if strings.HasPrefix(e.Field, "[") { // an element of the bare array: events[i]…
			sep = ""
		}
		return &domain.Error{Code: e.Code, Field: "events" + sep + e.Field, Message: e.Message}
	}
	return err
}

// unwrapEventError turns a usage.EventError into the domain error, naming the event as
// list[i].field when list is set.
func unwrapEventError(err error, list string) error {
	var ee *usage.EventError
	if !errors.As(err, &ee) || ee.Err == nil {
		return err
	}
	out := *ee.Err
	if list != "" {
		out.Field = fmt.Sprintf("%s[%d].%s", list, ee.Index, ee.Err.Field)
		out.Message = fmt.Sprintf("event %d: %s", ee.Index, ee.Err.Message)
	}
	return &out
}
