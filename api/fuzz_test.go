package api

import (
	"testing"

	"github.com/tollgate-billing/tollgate/domain"
)

// The fuzz targets feed arbitrary bytes to the strict decoding and validation of the main create
// endpoints. Whatever comes in, the answer is either a valid input or a 4xx *domain.Error that
// names a field — never a panic, never an unnamed or 5xx error. Their seeds run as unit tests
// under plain `go test`; `go test -fuzz FuzzX -fuzztime 10s ./api/` explores further.

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
			if !validEmail(in.Email) {
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
		`{"name":"x","type":"custom","billingCycle":"custom","cycleDays":0}`, `{"name":"x","type":"one-time","price":100,"accessDays":30}`},
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
