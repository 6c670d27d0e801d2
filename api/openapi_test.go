//go:build !fuzzonly

package api_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes holds /openapi.json against the router both ways: a route missing
// from the document fails, and so does a documented operation no route serves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	w := newWorld(t)
	resp, err := http.Get(w.env.srv.URL + "/openapi.json") // public: no key
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Servers    []map[string]string                  `json:"servers"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Servers) != 1 || doc.Servers[0]["url"] != w.env.srv.URL {
		t.Fatalf("header: %s %v", doc.OpenAPI, doc.Servers)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, o := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
			if o["summary"] == "" || o["responses"] == nil {
				t.Errorf("%s %s: no summary or responses", method, path)
			}
		}
	}
	routes := map[string]bool{}
	for _, r := range w.srv.Routes() {
		if routes[r] {
			t.Errorf("route registered twice: %s", r)
		}
		routes[r] = true
		if !documented[r] {
			t.Errorf("route %s is not in /openapi.json", r)
		}
	}
	var extra []string
	for d := range documented {
		if !routes[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(extra)
	for _, d := range extra {
		t.Errorf("/openapi.json documents %s, which no route serves", d)
	}

	// every $ref resolves
	raw, _ := json.Marshal(doc.Paths)
	rawC, _ := json.Marshal(doc.Components.Schemas)
	for _, part := range strings.Split(string(raw)+string(rawC), `"$ref":"#/components/schemas/`)[1:] {
		name := part[:strings.IndexByte(part, '"')]
		if doc.Components.Schemas[name] == nil {
			t.Errorf("dangling $ref %s", name)
		}
	}
}
