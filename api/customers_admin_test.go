//go:build !fuzzonly

package api_test

import (
	"net/http"
	"strings"
	"testing"
)

const seed002Customer = `{
  "reference": "superstore-001",
  "type": "ORGANIZATION",
  "email": "invoices@superstore.de",
  "roles": ["DEFAULT"],
  "status": "DRAFT",
  "timezone": "Europe/Berlin",
  "organization": {
    "legal_name": "SuperStore GmbH",
    "tax_ids": [{"id": "368807022", "type": "GENERIC_TAX_ID"}],
    "registered_address": {"line1": "Hasengarten 14", "city": "Berlin", "postal_code": "79341", "state": "", "country": "DE"}
  }
}`

// TestSeed002Tutorial replays steps 2-5 of the Solvimon tutorial.
func TestSeed002Tutorial(t *testing.T) {
	e := newEnv(t)

	status, list := e.do("GET", "/v1/customers", "")
	if status != 200 || len(list["data"].([]any)) != 0 || list["page"].(float64) != 1 || list["limit"].(float64) != 10 {
		t.Fatalf("empty list: %d %v", status, list)
	}
	links := list["links"].(map[string]any)
	if links["first"] != e.srv.URL+"/v1/customers?page=1" || links["previous"] != nil || links["next"] != nil ||
		links["current"] != e.srv.URL+"/v1/customers?page=1" {
		t.Fatalf("links: %v", links)
	}

	status, c := e.do("POST", "/v1/customers", seed002Customer)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, c)
	}
	org := c["organization"].(map[string]any)
	if c["object_type"] != "CUSTOMER" || !strings.HasPrefix(c["id"].(string), "cus_") || c["reference"] != "superstore-001" ||
		c["status"] != "DRAFT" || c["timezone"] != "Europe/Berlin" || c["type"] != "ORGANIZATION" ||
		c["email"] != "invoices@superstore.de" || org["legal_name"] != "SuperStore GmbH" || org["tax_id"] != "368807022" ||
		org["registered_address"].(map[string]any)["city"] != "Berlin" || c["roles"].([]any)[0] != "DEFAULT" || c["created_at"] == "" {
		t.Fatalf("created customer: %v", c)
	}

	_, found := e.do("GET", "/v1/customers?reference=superstore-001", "")
	if d := found["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != c["id"] {
		t.Fatalf("fetch by reference: %v", found)
	}

	status, act := e.do("POST", "/v1/customers/superstore-001/activate", "")
	if status != 200 || act["status"] != "ACTIVE" {
		t.Fatalf("activate: %d %v", status, act)
	}
	if _, again := e.do("GET", "/v1/customers/"+c["id"].(string), ""); again["status"] != "ACTIVE" {
		t.Fatalf("after activate: %v", again)
	}
}

func TestMissingOrWrongKeyIs401(t *testing.T) {
	e := newEnv(t)
	for _, key := range []string{"", "sk_sandbox_nope"} {
		e.key = key
		status, body := e.do("GET", "/v1/customers", "")
		errObj, _ := body["error"].(map[string]any)
		if status != 401 || errObj["code"] != "UNAUTHORISED" || errObj["message"] == "" {
			t.Fatalf("key %q: %d %v", key, status, body)
		}
	}
}

func TestBearerAuthAndIdempotency(t *testing.T) {
	e := newEnv(t)
	key := e.key
	e.key = ""
	body := `{"reference":"r-1","email":"a@b.co"}`
	s1, c1 := e.do("POST", "/v1/customers", body, "Authorization", "Bearer "+key, "Idempotency-Key", "k1")
	s2, c2 := e.do("POST", "/v1/customers", body, "Authorization", "Bearer "+key, "Idempotency-Key", "k1")
	if s1 != 201 || s2 != 201 || c1["id"] != c2["id"] {
		t.Fatalf("replay: %d %v / %d %v", s1, c1, s2, c2)
	}
	s3, c3 := e.do("POST", "/v1/customers", `{"reference":"r-2"}`, "Authorization", "Bearer "+key, "Idempotency-Key", "k1")
	if s3 != 409 || c3["error"].(map[string]any)["code"] != "CONFLICT" {
		t.Fatalf("same key other body: %d %v", s3, c3)
	}
	e.key = key
	if _, l := e.do("GET", "/v1/customers", ""); l["total"].(float64) != 1 {
		t.Fatalf("replays created extra customers: %v", l)
	}
}

func TestBadCustomerInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ body, field string }{
		{`{"type":"ROBOT"}`, "type"},
		{`{"email":"nope"}`, "email"},
		{`{"reference":""}`, "reference"},
		{`{"colour":"red"}`, "colour"},
		{`{"email": 5}`, "email"},
		{`{"email": "a@b.co"`, "body"},
		{`{"type":"ORGANIZATION"}`, "organization.legal_name"},
		{`{"timezone":"Mars/Olympus"}`, "timezone"},
	}
	for _, tc := range cases {
		status, body := e.do("POST", "/v1/customers", tc.body)
		errObj, _ := body["error"].(map[string]any)
		if status != 400 || errObj["field"] != tc.field {
			t.Errorf("%s: %d %v (want field %s)", tc.body, status, body, tc.field)
		}
	}
	if _, l := e.do("GET", "/v1/customers", ""); l["total"].(float64) != 0 {
		t.Fatalf("bad input created customers: %v", l)
	}
}
