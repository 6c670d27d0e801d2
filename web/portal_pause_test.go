package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
)

// A paused purchase shows as paused in the portal, with what the pause grants and when it ends.
func TestPortalShowsAPausedPurchase(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	ref := e.buy(c)
	ctx := context.Background()
	p, err := e.st.GetPurchase(ctx, e.merchant, ref)
	if err != nil {
		t.Fatal(err)
	}
	resumes := time.Date(2031, 3, 14, 12, 0, 0, 0, time.UTC)
	for _, pause := range []domain.Pause{
		{Behavior: domain.PauseKeepAccess, PausedAt: time.Now(), ResumesAt: &resumes},
		{Behavior: domain.PauseVoid, PausedAt: time.Now()},
	} {
		p.Status, p.Pause, p.Seq, p.StepAt = domain.PurchasePaused, &pause, p.Seq+1, time.Now()
		if ok, err := e.st.UpsertPurchase(ctx, p); err != nil || !ok {
			t.Fatalf("project the pause: %v %v", ok, err)
		}
		if got, _ := e.st.GetPurchase(ctx, e.merchant, ref); got.Pause == nil || got.Pause.Behavior != pause.Behavior {
			t.Fatalf("the pause did not round-trip: %+v", got.Pause)
		}
		_, body := get(t, c, e.srv.URL+"/portal/"+e.portal(0).Ref)
		want := []string{`data-status>Paused<`, "Your plan is paused: you won't be charged while it is, and you keep your access."}
		if pause.Behavior == domain.PauseVoid {
			want = []string{`data-status>Paused<`, "your access is paused too"}
		} else {
			want = append(want, "Resumes on", "14 Mar 2031")
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the portal lacks %q", pause.Behavior, w)
			}
		}
	}
}
