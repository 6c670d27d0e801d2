package mcp

import (
	"encoding/json"
	"testing"
)

func TestMoney(t *testing.T) {
	for _, c := range []struct {
		minor    int64
		currency string
		money    string
		price    string
	}{
		{387100, "USD", "$3,871.00", "$3,871"},
		{89250, "usd", "$892.50", "$892.50"},
		{2500, "USD", "$25.00", "$25"},
		{4900, "EUR", "€49.00", "€49"},
		{1500, "JPY", "¥1,500", "¥1,500"},
		{12345, "KWD", "12.345 KWD", "12.345 KWD"},
		{150000, "SEK", "1,500.00 SEK", "1,500 SEK"},
		{-2500, "GBP", "-£25.00", "-£25"},
		{0, "USD", "$0.00", "$0"},
	} {
		if got := money(c.minor, c.currency); got != c.money {
			t.Errorf("money(%d, %s) = %q, want %q", c.minor, c.currency, got, c.money)
		}
		if got := price(c.minor, c.currency); got != c.price {
			t.Errorf("price(%d, %s) = %q, want %q", c.minor, c.currency, got, c.price)
		}
	}
	if got := planPrice("recurring", 4900, 0, "USD", "monthly", 0); got != "$49/month" {
		t.Errorf("plan price %q", got)
	}
}

// The seed's sentence, and what is said when there is no limit or the customer is blocked.
func TestLimitsText(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	for _, c := range []struct {
		l    limitsView
		want string
	}{
		{limitsView{WithinLimits: true, Used: 87, Limit: n(100), Remaining: n(13), FreeUnits: 100, MeterName: "api_requests"},
			"The customer has used 87 of 100 free requests this period. They have 13 requests remaining before they'll need to upgrade."},
		{limitsView{WithinLimits: true, Used: 5, MeterName: "tokens"},
			"The customer has used 5 tokens this period. Their plan has no usage limit."},
		{limitsView{Used: 100, Limit: n(100), Remaining: n(0), FreeUnits: 100, Reason: "limit_reached", CheckoutURL: "http://x/checkout/cs_1"},
			"The customer has reached their limit: 100 of 100 free requests used this period.\n\nTo continue they need to upgrade; send them this checkout link:\nhttp://x/checkout/cs_1"},
		{limitsView{Reason: "purchase_past_due"}, "The customer's purchase is past due, so the usage is not allowed."},
	} {
		if got := limitsText(c.l); got != c.want {
			t.Errorf("limitsText(%+v)\n got %q\nwant %q", c.l, got, c.want)
		}
	}
}

// Seed 001's spellings fold into seed 000's; contradictions, unknown names and wrong types are
// refused with the API's codes; numbers sent as strings become numbers.
func TestParseArgs(t *testing.T) {
	params := []param{customerRef(true), {name: "amount", typ: tInteger}, {name: "ok", typ: tBoolean}}
	a, err := parseArgs(json.RawMessage(`{"customerId":"cus_1","amount":"2500","ok":"true"}`), params)
	if err != nil || a.str("customerRef") != "cus_1" || string(a["amount"]) != "2500" || string(a["ok"]) != "true" {
		t.Fatalf("%v %v", a, err)
	}
	for raw, code := range map[string]string{
		`{}`:                                        "MISSING_FIELD",
		`{"customerRef":"a","customerId":"b"}`:      "INVALID_FIELD",
		`{"customerRef":"a","amount":2.5}`:          "INVALID_FIELD",
		`{"customerRef":"a","customer":"a"}`:        "INVALID_FIELD",
		`{"customerRef":7}`:                         "INVALID_FIELD",
		`[1]`:                                       "INVALID_FIELD",
		`{"customerRef":"a","customerId":"a"}`:      "",
		`{"customerRef":"a","amount":2500.0}`:       "",
		`{"customerRef":"a","amount":null,"ok":""}`: "",
	} {
		_, err := parseArgs(json.RawMessage(raw), params)
		got := ""
		if err != nil {
			got = asAPIError(err).Code
		}
		if got != code {
			t.Errorf("parseArgs(%s): %v, want %s", raw, err, code)
		}
	}
}
