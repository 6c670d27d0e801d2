package api

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/tollgate-billing/tollgate/domain"
)

// FuzzStripeWebhook feeds arbitrary bodies and Stripe-Signature headers to the webhook decoder,
// once with the header as given and once correctly signed: the answer is an event to process
// that names what it is about, an authentic event to ignore, or a 4xx *domain.Error naming a
// field — never a panic, never a 5xx.
func FuzzStripeWebhook(f *testing.F) {
	const secret = "whsec_fuzzQ8t"
	if raw, err := os.ReadFile("testdata/stripe_events.json"); err == nil {
		for _, ev := range strings.Split(string(raw), "\n {") {
			f.Add([]byte("{"+strings.TrimSuffix(strings.TrimSpace(ev), ",")), "")
		}
	}
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"id":"evt_1","type":"charge.refunded"}`,
		`{"id":"evt_1","type":"charge.refunded","data":{"object":{"id":"ch_1","object":"charge","payment_intent":{"id":"pi_1"}}}}`,
		`{"id":"evt_1","type":"refund.updated","data":{"object":{"id":"re_1","object":"refund","charge":null}}}`,
		`{"id":"evt_1","type":"customer.deleted","data":{"object":{"id":"","object":"customer"}}}`,
		`{"id":"evt_1","type":"charge.dispute.closed","data":{"object":{"id":"dp_1","object":"invoice"}}}`, "\x00", `{"id":1e999}`} {
		f.Add([]byte(s), "t=1,v1=00")
	}
	f.Fuzz(func(t *testing.T, payload []byte, header string) {
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: time.Now()})
		for _, h := range []string{header, signed.Header} {
			in, ignored, err := decodeStripeWebhook(payload, h, webhookSecret{"stripe", secret})
			switch {
			case err != nil:
				e := domain.AsError(err)
				if e == nil {
					t.Fatalf("%q: not a domain error: %v", payload, err)
				}
				if s := statusOf(e.Code); s < 400 || s >= 500 || e.Field == "" || e.Message == "" {
					t.Fatalf("%q: %d %v", payload, s, e)
				}
			case ignored != "":
			case !strings.HasPrefix(in.EventID, "evt_") || in.Processor != "stripe" || !stripeEventTypes[in.Type]:
				t.Fatalf("%q: accepted %+v", payload, in)
			case in.PaymentRef == "" && in.PaymentMethod == "" && in.ProcessorCustomer == "":
				t.Fatalf("%q: an event about nothing: %+v", payload, in)
			}
		}
	})
}
