package api

import (
	"bytes"
	"mime"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/workflows"
)

// The fuzz targets feed arbitrary bytes to the strict decoding and validation of the main create
// endpoints. Whatever comes in, the answer is either a valid input or a 4xx *domain.Error that
// names a field — never a panic, never an unnamed or 5xx error. Their seeds run as unit tests
// under plain `go test`; `make fuzz` explores further (tag fuzzonly, a budget of executions:
// see the Makefile for why not a duration).

func fuzzInput[T any](f *testing.F, seeds []string, validate func(*T) error, check func(*testing.T, *T)) {
	for _, s := range append(seeds, ``, `{}`, `[]`, `null`, `{"x":1}`, `{"a":`, `"s"`, `{} {}`, "\x00", `{"name":1e999}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in T
		err := decodeBytes(data, &in)
		if err == nil {
			err = validate(&in)
			if err == nil && check != nil {
				check(t, &in)
			}
		}
		if err == nil {
			return
		}
		e := domain.AsError(err)
		if e == nil {
			t.Fatalf("%q: not a domain error: %v", data, err)
		}
		if s := statusOf(e.Code); s < 400 || s >= 500 {
			t.Fatalf("%q: status %d for %v", data, s, e)
		}
		if e.Field == "" || e.Message == "" {
			t.Fatalf("%q: error names no field: %v", data, e)
		}
	})
}

func FuzzSDKCustomerInput(f *testing.F) {
	fuzzInput(f, []string{`{"email":"jane@acme.com","name":"Jane Smith"}`, `{"email":"a@b.co","externalRef":"user_123","metadata":{"k":"v"}}`,
		`{"email":"nope"}`, `{"email":5}`, `{"metadata":{"k":1}}`},
		func(in *sdkCustomerInput) error { return in.validate() },
		func(t *testing.T, in *sdkCustomerInput) {
			if !domain.ValidEmail(in.Email) {
				t.Fatalf("accepted email %q", in.Email)
			}
		})
}

func FuzzProductInput(f *testing.F) {
	fuzzInput(f, []string{`{"name":"support-bot","description":"Customer support automation"}`, `{"name":"x","status":"archived"}`,
		`{"name":""}`, `{"name":"x","status":"gone"}`},
		func(in *productInput) error { return in.validate() }, nil)
}

func FuzzPlanInput(f *testing.F) {
	fuzzInput(f, []string{`{"name":"Pro","type":"recurring","price":4900,"currency":"USD","billingCycle":"monthly"}`,
		`{"name":"Free","type":"free","limit":100}`, `{"name":"PAYG","type":"usage-based","unitPrice":2,"meterName":"tokens"}`,
		`{"name":"x","type":"recurring","price":-1}`, `{"name":"x","type":"recurring","price":9223372036854775807}`,
		`{"name":"x","type":"custom","billingCycle":"custom","cycleDays":0}`, `{"name":"x","type":"one-time","price":100,"accessDays":30}`,
		`{"name":"x","type":"usage-based","unitPrice":1000000000000,"limit":10000000}`},
		func(in *planInput) error {
			p := in.plan()
			return validatePlan(&p)
		},
		func(t *testing.T, in *planInput) {
			p := in.plan()
			_ = validatePlan(&p)
			for _, v := range []int64{p.Price, p.UnitPrice, p.SetupFee} {
				if v < 0 || v > maxAmount {
					t.Fatalf("accepted amount %d: %+v", v, p)
				}
			}
			if p.TrialDays < 0 || p.TrialDays > maxDays || p.CycleDays < 0 || p.CycleDays > maxDays {
				t.Fatalf("accepted days: %+v", p)
			}
			if p.Metered() && p.Limit != nil {
				if _, err := workflows.Overage(p, *p.Limit); err != nil {
					t.Fatalf("accepted a limit whose overage overflows: %+v", p)
				}
			}
		})
}

func FuzzRefundInput(f *testing.F) {
	fuzzInput(f, []string{`{"sourceTransactionRef":"txn_D7E8F9G0","amount":2500,"reason":"Double charge"}`,
		`{"sourceTransactionId":"txn_D7E8F9G0"}`, `{"sourceTransactionRef":"txn_a","amount":0}`, `{"sourceTransactionRef":"txn_a","amount":-1}`,
		`{"sourceTransactionRef":"txn_a","sourceTransactionId":"txn_b"}`},
		func(in *refundInput) error {
			_, err := in.validate()
			return err
		},
		func(t *testing.T, in *refundInput) {
			if in.Amount != nil && (*in.Amount <= 0 || *in.Amount > maxAmount) {
				t.Fatalf("accepted amount %d", *in.Amount)
			}
		})
}

func FuzzCheckoutSessionInput(f *testing.F) {
	fuzzInput(f, []string{`{"customerRef":"cus_X7Y8Z9W0","productRef":"prd_P9Q0R1S2","planRef":"pln_K5L6M7N8"}`,
		`{"customerId":"cus_X","productReference":"prd_P","returnUrl":"https://app.example.com/done"}`, `{"returnUrl":"javascript:x"}`},
		func(in *checkoutSessionInput) error {
			_, _, err := in.validate()
			return err
		}, nil)
}

// FuzzBodyContentType holds the content-type rule: a JSON content type, none at all, or curl's
// default form type with a body that is a JSON object or array is decoded as JSON; any other
// body or content type is refused with a 4xx naming Content-Type (or, for a JSON-looking body,
// naming what the JSON itself got wrong) — never accepted, never a 5xx.
func FuzzBodyContentType(f *testing.F) {
	for _, c := range [][2]string{{"", `{}`}, {formType, `{}`}, {formType, `{"a":1}`}, {formType, `a=1&b=2`}, {formType, ` [1]`},
		{"application/json", `{}`}, {"application/merge-patch+json", `{}`}, {"text/html", `{}`}, {"multipart/form-data; boundary=x", `{}`},
		{"text/plain", `{}`}, {"application/x-www-form-urlencoded; charset=utf-8", `{}`}, {"nonsense/", `{}`}, {";", `{}`}, {"", `a=1`}} {
		f.Add(c[0], []byte(c[1]))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		r := httptest.NewRequest("POST", "/v1/products", bytes.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		var v map[string]any
		err := decode(httptest.NewRecorder(), r, &v, true)
		mt, _, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
		jsonType := perr == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
		trimmed := bytes.TrimSpace(body)
		looksJSON := len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
		if err == nil {
			if r.Header.Get("Content-Type") != "" && !jsonType && !(perr == nil && mt == formType && looksJSON) && len(trimmed) > 0 {
				t.Fatalf("%q %q: accepted", ct, body)
			}
			return
		}
		e := domain.AsError(err)
		if e == nil || e.Field == "" || e.Message == "" {
			t.Fatalf("%q %q: not a domain error naming a field: %v", ct, body, err)
		}
		if s := statusOf(e.Code); s < 400 || s >= 500 {
			t.Fatalf("%q %q: status %d for %v", ct, body, s, e)
		}
		if len(trimmed) > 0 && r.Header.Get("Content-Type") != "" && !jsonType && !(perr == nil && mt == formType && looksJSON) && e.Field != "Content-Type" {
			t.Fatalf("%q %q: refused naming %q, not the content type", ct, body, e.Field)
		}
	})
}

// FuzzUsageDecodeFast is differential: the usage hot path decodes with json/v2 first and falls
// back to decodeBytes (json_fast.go). Whenever v2 accepts a body, decodeBytes must accept it too
// and decode the very same value; whenever v2 refuses, decodeFast must answer exactly what
// decodeBytes answers (value and error). Each body is tried on every target of the hot path.
func FuzzUsageDecodeFast(f *testing.F) {
	for _, s := range []string{
		`{"customerRef":"cus_X7Y8Z9W0","productRef":"prd_P9Q0R1S2","actionType":"api_call","units":1,"outcome":"success","idempotencyKey":"evt_1","metadata":{"route":"/v1/chat"}}`,
		`{"customerId":"user_123","productReference":"prd_x","meterName":"tokens","units":1500,"timestamp":"2026-02-11T09:30:00.123+01:00","mode":"consume"}`,
		`{"events":[{"customerRef":"user_1","units":1},{"customerRef":"user_2","timestamp":1760000000000,"metadata":{}}]}`,
		`[{"customerRef":"user_1","actionType":"tool:search"},{"customerRef":"user_2","outcome":"error","metadata":null}]`,
		` {"events":[]} `, `{"events":null}`, `[null,{}]`, `{"events":[null]}`,
		`{"units":null}`, `{"units":1.0}`, `{"units":1e2}`, `{"units":-0}`, `{"units":99999999999999999999}`,
		`{"units":-9223372036854775808}`, `{"units":9223372036854775808}`, `{"units":"1"}`, `{"units":true}`,
		`{"customerRef":null,"timestamp":null,"metadata":null}`, `{"timestamp":true}`, `{"metadata":[]}`, `{"metadata":"x"}`,
		`{"timestamp":  "2026-01-01T00:00:00Z" ,"metadata": { "a" : [1, 2.5e-3, -0, null, "\u00e9"] } }`,
		`{"customerRef":"a\ud83d\ude00\u00e9\n\"\\\/\b\f\t\u0000<>&\u2028"}`, `{"customerRef":"\ud800"}`, `{"customerRef":"\udc00\ud800x"}`,
		`{"metadata":"\ud800"}`, "{\"customerRef\":\"\xff\"}", "{\"metadata\":{\"k\":\"\xc3\"}}", "{\"customerRef\":\"caf\u00e9 \U0001F600\"}",
		`{"CustomerRef":"x"}`, `{"customerref":"x","CUSTOMERREF":"y"}`, "{\"customer\u212aef\":\"x\"}", `{"customer\u0052ef":"x"}`,
		`{"customerRef":"a","customerRef":"b"}`, `{"customerRef":"a","customerRef":null}`, `{"metadata":{"a":1,"a":2}}`,
		`{"events":[{"units":1,"Units":2}]}`, `{"events":[{"customerRef":"a"}],"Events":[]}`,
		`{}]`, `{}}`, `{} {}`, `{}x`, `[]]`, "\ufeff{}", `{"metadata":` + "[[[[[[[[[[1]]]]]]]]]]" + `}`,
		`{"withinLimits":true}`, `{"mode":"consume","customerRef":"c","productRef":"p","units":0}`,
		`{"customerRef":"c","productRef":"p","meterName":"tokens","actionType":"chat","units":10}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsDecodeBytes[usageInput](t, data)
		sameAsDecodeBytes[bulkInput](t, data)
		sameAsDecodeBytes[[]usageInput](t, data)
		sameAsDecodeBytes[limitsInput](t, data)
	})
}

func sameAsDecodeBytes[T any](t *testing.T, data []byte) {
	t.Helper()
	var v2, v1json, v1, got T
	v2err := jsonv2.Unmarshal(data, &v2, strictV2)
	if v2err == nil {
		if err := decodeV1(data, &v1json); err != nil {
			t.Fatalf("%T %q: v2 accepts, encoding/json refuses: %v", v1, data, err)
		}
		if !reflect.DeepEqual(v2, v1json) {
			t.Fatalf("%T %q: v2 decodes %#v, encoding/json %#v", v1, data, v2, v1json)
		}
	}
	v1err := decodeBytes(data, &v1)
	err := decodeFast(data, &got)
	if !reflect.DeepEqual(err, v1err) || !reflect.DeepEqual(got, v1) {
		t.Fatalf("%T %q: decodeFast answers %#v (%v), decodeBytes %#v (%v)", v1, data, got, err, v1, v1err)
	}
}
