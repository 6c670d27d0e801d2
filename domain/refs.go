package domain

import (
	"crypto/rand"
	"strings"
	"time"
)

// Reference prefixes, one per object kind (DESIGN.md "Data").
const (
	PrefixMerchant        = "mer"
	PrefixCustomer        = "cus"
	PrefixProduct         = "prd"
	PrefixPlan            = "pln"
	PrefixPurchase        = "pur"
	PrefixTransaction     = "txn"
	PrefixMeter           = "mtr"
	PrefixUsage           = "usage"
	PrefixCheckoutSession = "cs"
	PrefixPortalSession   = "ps"
	PrefixEvent           = "evt"
	PrefixWebhookEndpoint = "we"
	PrefixAPIKey          = "key"
)

// refAlphabet is URL-safe and unambiguous in logs.
const refAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewRef returns prefix_ followed by 16 random base62 characters (~95 bits).
func NewRef(prefix string) string { return prefix + "_" + RandomString(16) }

// NewTimedRef returns prefix_ followed by the time in microseconds (9 base62 characters, so
// references sort by creation) and 10 random characters (~60 bits). For rows written at a high
// rate: new keys land at the right edge of the primary-key index instead of on a random page.
func NewTimedRef(prefix string, t time.Time) string {
	var ts [9]byte
	us := uint64(t.UnixMicro())
	for i := len(ts) - 1; i >= 0; i-- {
		ts[i] = refAlphabet[us%62]
		us /= 62
	}
	return prefix + "_" + string(ts[:]) + RandomString(10)
}

// NewSecretRef returns prefix_ followed by 32 random base62 characters (~190 bits), for
// unguessable session ids and API keys.
func NewSecretRef(prefix string) string { return prefix + "_" + RandomString(32) }

// RandomString returns n characters from refAlphabet using crypto/rand.
func RandomString(n int) string {
	var b strings.Builder
	b.Grow(n)
	buf := make([]byte, n*2)
	for b.Len() < n {
		if _, err := rand.Read(buf); err != nil {
			panic(err) // crypto/rand never fails on Linux; a failure means the machine is broken
		}
		for _, c := range buf {
			if c < 248 && b.Len() < n { // 248 = 4*62: keeps the distribution uniform
				b.WriteByte(refAlphabet[int(c)%62])
			}
		}
	}
	return b.String()
}

// HasPrefix reports whether ref looks like one of ours of the given kind.
func HasPrefix(ref, prefix string) bool { return strings.HasPrefix(ref, prefix+"_") }
