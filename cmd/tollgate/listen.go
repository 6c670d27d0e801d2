package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/mcp"
	"github.com/tollgate-billing/tollgate/webhooks"
)

// runListen is `stripe listen` for Tollgate: it polls a running API with a sandbox key for the
// merchant's new events and POSTs each, signed as webhook endpoints' deliveries are, to a URL on
// the developer's machine, printing one line per delivery with the receiver's answer.
func runListen(ctx context.Context, args []string, e env) error {
	var c config
	var forwardTo, only, secret string
	var every, since time.Duration
	fs := newFlagSet("listen", "Forward the merchant's sandbox events to a URL on this machine, signed as Tollgate's webhooks are\n"+
		"(like `stripe listen`). Polls the Tollgate API at --api-url with a sandbox key for new events and\n"+
		"POSTs each, oldest first, to --forward-to with the Standard Webhooks headers (webhook-id = the\n"+
		"event's evt_ reference, webhook-timestamp, webhook-signature), signed with the whsec_ secret it\n"+
		"prints (or --secret), and prints one line per delivery with the receiver's answer. Each event is\n"+
		"sent once: listen does not retry (webhook endpoints, POST /v1/webhook-endpoints, do, for about\n"+
		"three days); use --since to send recent events again. Live keys are refused. ^C to quit.\n\n"+
		"  tollgate listen --forward-to http://localhost:3000/hooks", e)
	c.bindAPIClient(fs, e, "the merchant's sandbox API `key` (sk_sandbox_…); a live key is refused")
	fs.StringVar(&forwardTo, "forward-to", "", "the `URL` to POST each event to, e.g. http://localhost:3000/hooks (http:// when no scheme is given)")
	fs.StringVar(&only, "events", "", "forward only these event `types`, comma-separated (e.g. customer.created,purchase.activated); empty: all")
	secretFlag(fs, e, &secret, "secret", "TOLLGATE_WEBHOOK_SECRET", "the whsec_ `secret` to sign with, to keep one across runs; empty: a new one each run, printed at start")
	fs.DurationVar(&since, "since", 0, "also send the events of this long before start, e.g. 10m, oldest first, as soon as it starts (so give your receiver the secret first: --secret); 0: only events from now on")
	fs.DurationVar(&every, "poll-interval", time.Second, "how often to ask the API for new events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("listen takes no arguments, got %q (flags go before them?)", fs.Args())
	}
	if err := checkSandboxKey(c.APIKey); err != nil {
		return err
	}
	if err := checkAPIURL(c.APIURL); err != nil {
		return err
	}
	to, err := forwardURL(forwardTo)
	if err != nil {
		return err
	}
	types, err := eventTypes(only)
	if err != nil {
		return err
	}
	if secret == "" {
		secret = webhooks.NewSecret()
	} else if _, err := webhooks.Sign([]string{secret}, "evt_check", time.Now(), nil); err != nil || !strings.HasPrefix(secret, webhooks.SecretPrefix) {
		return errors.New("--secret must be whsec_ followed by base64, as a webhook endpoint's secret is")
	}
	if every <= 0 || since < 0 {
		return errors.New("--poll-interval must be positive and --since not negative, e.g. --poll-interval 1s --since 10m")
	}
	l := &listener{api: mcp.HTTP{BaseURL: strings.TrimRight(c.APIURL, "/"), APIKey: c.APIKey}, to: to,
		secret: secret, types: types, client: webhooks.NewClient(domain.ModeSandbox), out: e.stdout, errOut: e.stderr,
		seen: map[string]time.Time{}}
	return l.run(ctx, since, every)
}

// checkSandboxKey refuses a missing key and any key but a sandbox one: a live key's events go to
// the merchant's webhook endpoints, which retry and record every attempt; a laptop is not one.
func checkSandboxKey(key string) error {
	switch {
	case key == "":
		return errors.New("no API key: set TOLLGATE_API_KEY or --api-key to the merchant's sandbox key (sk_sandbox_…)")
	case strings.HasPrefix(key, "sk_live_"):
		return errors.New("tollgate listen takes a sandbox key (sk_sandbox_…), not a live one: live events go to " +
			"the merchant's webhook endpoints (POST /v1/webhook-endpoints), which retry and record every delivery")
	case !strings.HasPrefix(key, "sk_sandbox_"):
		return errors.New("the API key is not a sandbox key (sk_sandbox_…): tollgate listen takes a sandbox key only")
	}
	return nil
}

// forwardURL is --forward-to as a URL a sandbox endpoint may have (loopback and http allowed);
// like `stripe listen`, localhost:3000/hooks means http://localhost:3000/hooks.
func forwardURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("--forward-to is required: the URL of your webhook handler, e.g. --forward-to http://localhost:3000/hooks")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	if err := webhooks.CheckURL(raw, domain.ModeSandbox); err != nil {
		return "", fmt.Errorf("--forward-to: %s", domain.AsError(err).Message)
	}
	return raw, nil
}

// eventTypes is --events as a set; nil forwards every type.
func eventTypes(list string) (map[string]bool, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	types := map[string]bool{}
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if !domain.IsEventType(t) {
			return nil, fmt.Errorf("--events: %q is not an event type; the types are %s", t, strings.Join(domain.EventTypes, ", "))
		}
		types[t] = true
	}
	return types, nil
}

// listenHorizon is how far behind the newest event each poll looks again. An event's createdAt
// is when its transaction began, and it becomes visible when that transaction commits, so an
// event may appear in the list behind one already seen; one that appears more than this late
// is not forwarded.
const listenHorizon = time.Minute

type listener struct {
	api    mcp.HTTP
	to     string
	secret string
	types  map[string]bool // nil: every type
	client *http.Client
	out    io.Writer
	errOut io.Writer
	// seen holds the events already walked past, with their createdAt, back to the horizon.
	seen   map[string]time.Time
	newest time.Time // the newest createdAt seen
}

// listedEvent is an event of GET /v1/events: what listen reads of it, and the JSON it forwards.
type listedEvent struct {
	Ref       string    `json:"reference"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"createdAt"`
	body      []byte
}

func (l *listener) run(ctx context.Context, since, every time.Duration) error {
	start := time.Now()
	// the first walk reads what exists: history, except what --since asks to send again
	var back time.Time
	if since > 0 {
		back = start.Add(-since)
	}
	fresh, err := l.walk(ctx, back)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	fresh = slices.DeleteFunc(fresh, func(ev listedEvent) bool { return back.IsZero() || ev.CreatedAt.Before(back) })
	fmt.Fprintf(l.out, "Ready! Forwarding events to %s. Your webhook signing secret is %s (^C to quit)\n", l.to, l.secret)
	var down error // the API's last failure, printed once until it answers again
	for {
		for _, ev := range fresh {
			if ctx.Err() != nil {
				return nil
			}
			l.forward(ctx, ev)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
		fresh, err = l.walk(ctx, time.Time{})
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.As(err, new(*keyRefused)) || errors.As(err, new(*apiRefused)):
			return err
		case err != nil:
			if down == nil {
				fmt.Fprintf(l.errOut, "%s  the Tollgate API does not answer, trying again every %s: %v\n", clock(time.Now()), every, err)
			}
			down = err
		case down != nil:
			fmt.Fprintf(l.errOut, "%s  the Tollgate API answers again\n", clock(time.Now()))
			down = nil
		}
	}
}

// walk lists the events newest first, page by page, back to the horizon behind the newest (or
// to back, when that is earlier), and answers those not seen before, oldest first. A walk that
// fails half-way changes nothing: the next one starts again.
func (l *listener) walk(ctx context.Context, back time.Time) ([]listedEvent, error) {
	newest := l.newest
	stop := func() time.Time {
		if newest.IsZero() {
			return back
		}
		s := newest.Add(-listenHorizon)
		if !back.IsZero() && back.Before(s) {
			return back
		}
		return s
	}
	q := url.Values{"limit": {"100"}}
	if s := stop(); !s.IsZero() {
		q.Set("fromDate", s.UTC().Format(time.DateOnly))
	}
	var fresh []listedEvent
	walked := map[string]bool{} // a page may repeat the end of the one before, when events arrive between them
	for page, done := 1, false; !done; page++ {
		q.Set("page", strconv.Itoa(page))
		list, err := l.listEvents(ctx, q)
		if err != nil {
			return nil, err
		}
		done = list.Links.Next == nil
		for _, raw := range list.Data {
			var ev listedEvent
			if err := json.Unmarshal(raw, &ev); err != nil || ev.Ref == "" {
				return nil, fmt.Errorf("GET /v1/events: an event that is not one: %.200s", raw)
			}
			if ev.CreatedAt.After(newest) {
				newest = ev.CreatedAt
			}
			if s := stop(); !s.IsZero() && ev.CreatedAt.Before(s) {
				done = true
				break
			}
			if _, ok := l.seen[ev.Ref]; ok || walked[ev.Ref] {
				continue
			}
			walked[ev.Ref] = true
			var b bytes.Buffer
			if err := json.Compact(&b, raw); err != nil {
				return nil, err
			}
			ev.body = b.Bytes()
			fresh = append(fresh, ev)
		}
	}
	l.newest = newest
	for _, ev := range fresh {
		l.seen[ev.Ref] = ev.CreatedAt
	}
	for ref, at := range l.seen { // what is behind the horizon is never walked again
		if at.Before(newest.Add(-listenHorizon)) {
			delete(l.seen, ref)
		}
	}
	slices.SortFunc(fresh, func(a, b listedEvent) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Ref, b.Ref)
	})
	return fresh, nil
}

type eventPage struct {
	Data  []json.RawMessage `json:"data"`
	Links struct {
		Next *string `json:"next"`
	} `json:"links"`
}

// listEvents reads one page of GET /v1/events. A refused key or request is an error polling
// again would not mend (keyRefused, apiRefused); the rest may pass.
func (l *listener) listEvents(ctx context.Context, q url.Values) (eventPage, error) {
	var list eventPage
	res, err := l.api.Call(ctx, mcp.Request{Method: http.MethodGet, Path: "/v1/events", Query: q})
	switch {
	case err != nil:
		return list, err
	case res.Status == http.StatusUnauthorized:
		return list, &keyRefused{url: l.api.BaseURL}
	case res.Status >= 400 && res.Status < 500 && res.Status != http.StatusTooManyRequests:
		return list, &apiRefused{status: res.Status, body: string(res.Body)}
	case res.Status != http.StatusOK:
		return list, fmt.Errorf("GET /v1/events answered %d", res.Status)
	}
	if err := json.Unmarshal(res.Body, &list); err != nil {
		return list, fmt.Errorf("GET /v1/events: %v", err)
	}
	return list, nil
}

// forward POSTs one event to the receiver, signed, and prints the delivery and its answer.
func (l *listener) forward(ctx context.Context, ev listedEvent) {
	if l.types != nil && !l.types[ev.Type] {
		return
	}
	now := time.Now()
	answer, err := l.send(ctx, ev, now)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		answer = "[error] " + err.Error()
	}
	fmt.Fprintf(l.out, "%s  %-26s %s  %s  %dms\n", clock(now), ev.Type, ev.Ref, answer, time.Since(now).Milliseconds())
}

// send makes the one attempt of a delivery and answers the receiver's status, with the start of
// its body when it is not a 2xx (where a receiver says what it did not like).
func (l *listener) send(ctx context.Context, ev listedEvent, now time.Time) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.to, bytes.NewReader(ev.body))
	if err != nil {
		return "", err
	}
	if err := webhooks.Headers(req.Header, []string{l.secret}, ev.Ref, now, ev.body); err != nil {
		return "", err
	}
	req.Header.Set("User-Agent", "Tollgate-Listen/"+version)
	res, err := l.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	answer := fmt.Sprintf("[%d %s]", res.StatusCode, http.StatusText(res.StatusCode))
	if res.StatusCode/100 != 2 {
		if first, _, _ := strings.Cut(strings.TrimSpace(string(bytes.ToValidUTF8(body, nil))), "\n"); first != "" {
			answer += " " + truncate(first, 120)
		}
	}
	return answer, nil
}

func clock(t time.Time) string { return t.Format("2006-01-02 15:04:05") }

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// apiRefused is a 4xx from the API that polling again would not change.
type apiRefused struct {
	status int
	body   string
}

func (a *apiRefused) Error() string {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal([]byte(a.body), &e) == nil && e.Error.Code != "" {
		return fmt.Sprintf("GET /v1/events answered %d %s: %s", a.status, e.Error.Code, e.Error.Message)
	}
	return fmt.Sprintf("GET /v1/events answered %d", a.status)
}
