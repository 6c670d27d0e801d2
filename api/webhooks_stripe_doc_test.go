package api

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The README's list of events to enable on the Stripe endpoint is the list Tollgate acts on: an
// event the README leaves out would be ignored by every account set up from it, and one the
// code does not know is ignored though the README asks for it.
func TestReadmeListsTheStripeEventsTollgateActsOn(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "enable these events:")
	end := strings.Index(text[max(start, 0):], "Any other event")
	if start < 0 || end < 0 {
		t.Fatal(`README.md has no "enable these events: … Any other event" list for the Stripe endpoint`)
	}
	var listed []string
	for _, m := range regexp.MustCompile("`([a-z_.]+)`").FindAllStringSubmatch(text[start:start+end], -1) {
		listed = append(listed, m[1])
	}
	var acted []string
	for typ := range stripeEventTypes {
		acted = append(acted, typ)
	}
	slices.Sort(listed)
	slices.Sort(acted)
	if !slices.Equal(listed, acted) {
		t.Errorf("README lists %v\nthe webhook acts on %v", listed, acted)
	}
}
