package web

import (
	"cmp"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CardLimits bound how many cards the pages try, so that nobody tests stolen card numbers
// through them. A zero field takes its default.
type CardLimits struct {
	// PerSession is how many refused cards spend a checkout or portal link (5).
	PerSession int
	// PerCustomer is how many refused cards one customer's links may have within
	// CustomerWindow (10 in 1 h); past it, that customer's card pages answer 429.
	PerCustomer    int
	CustomerWindow time.Duration
	// IPBurst and IPEvery are the token bucket of one client address: IPBurst card attempts at
	// once, then one more every IPEvery (20, 1 min). An accepted card gives its token back.
	IPBurst int
	IPEvery time.Duration
}

func (l CardLimits) withDefaults() CardLimits {
	return CardLimits{PerSession: cmp.Or(l.PerSession, 5), PerCustomer: cmp.Or(l.PerCustomer, 10),
		CustomerWindow: cmp.Or(l.CustomerWindow, time.Hour), IPBurst: cmp.Or(l.IPBurst, 20), IPEvery: cmp.Or(l.IPEvery, time.Minute)}
}

// ipBuckets are the per-address token buckets. They live in this process: each replica limits
// on its own, which bounds an address to replicas × the bucket; the per-session and per-customer
// counts, which are in Postgres, hold across replicas.
type ipBuckets struct {
	burst float64
	every time.Duration

	mu sync.Mutex
	m  map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxBuckets bounds the map; past it, buckets that have refilled are forgotten (a full bucket is
// the same as none).
const maxBuckets = 10000

func newIPBuckets(burst int, every time.Duration) *ipBuckets {
	return &ipBuckets{burst: float64(burst), every: every, m: map[string]*bucket{}}
}

// take spends a token of ip's bucket, or answers how long until one is there.
func (b *ipBuckets) take(ip string, now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.refill(ip, now)
	if k.tokens < 1 {
		return false, time.Duration((1 - k.tokens) * float64(b.every))
	}
	k.tokens--
	return true, 0
}

// refund gives back a token that an accepted card did not need.
func (b *ipBuckets) refund(ip string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.refill(ip, now)
	k.tokens = math.Min(b.burst, k.tokens+1)
}

func (b *ipBuckets) refill(ip string, now time.Time) *bucket {
	k, ok := b.m[ip]
	if !ok {
		if len(b.m) >= maxBuckets {
			b.forgetFull(now)
		}
		k = &bucket{tokens: b.burst, at: now}
		b.m[ip] = k
	}
	if d := now.Sub(k.at); d > 0 {
		k.tokens = math.Min(b.burst, k.tokens+float64(d)/float64(b.every))
		k.at = now
	}
	return k
}

func (b *ipBuckets) forgetFull(now time.Time) {
	for ip, k := range b.m {
		if k.tokens+float64(now.Sub(k.at))/float64(b.every) >= b.burst {
			delete(b.m, ip)
		}
	}
}

// clientIP is the address a request came from: the last one of ClientIPHeader when the operator
// set it (the address their own proxy saw; the ones before it are the client's word), else the
// connection's peer.
func (h *handler) clientIP(r *http.Request) string {
	if name := h.cfg.ClientIPHeader; name != "" {
		if v := r.Header.Values(name); len(v) > 0 {
			parts := strings.Split(v[len(v)-1], ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// retryAfter sets the Retry-After header (whole seconds, at least 1) and says the wait in words.
func retryAfter(w http.ResponseWriter, d time.Duration) string {
	secs := max(1, int(math.Ceil(d.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	if mins := (secs + 59) / 60; mins > 1 {
		return fmt.Sprintf("about %d minutes", mins)
	}
	return "a minute"
}
