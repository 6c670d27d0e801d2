package domain

import (
	"sort"
	"strings"
	"testing"
	"time"
)

func TestNewTimedRefSortsByTime(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var refs []string
	for i := range 1000 {
		refs = append(refs, NewTimedRef(PrefixUsage, t0.Add(time.Duration(i*i)*time.Microsecond)))
	}
	if !sort.StringsAreSorted(refs) {
		t.Fatalf("references out of time order: %v", refs[:5])
	}
	r := refs[0]
	if !strings.HasPrefix(r, "usage_") || len(r) != len("usage_")+19 || r == NewTimedRef(PrefixUsage, t0) {
		t.Fatalf("reference %q: want usage_ + 19 characters, unique at the same microsecond", r)
	}
}
