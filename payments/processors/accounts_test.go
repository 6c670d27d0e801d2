package processors_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/sealed"
	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/processors"
	"github.com/tollgate-billing/tollgate/payments/stripe"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	encryptionKey = testenv.EncryptionKey
	keyring       = testenv.Keyring
)

// Two merchants with their own Stripe keys and one without: every call a merchant's live mode
// makes — customer, card, charge, its lookup, refund, payment lookup — reaches Stripe with that
// merchant's own secret key, and the merchant without one uses the deployment's.
func TestEachMerchantsCallsCarryItsOwnKey(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	backend, seen := testenv.StripeProxy(t)
	accounts := &processors.Accounts{Store: st, Keys: keyring(t, encryptionKey()), BackendURL: backend}
	modes := processors.Split(stripe.New(stripe.Config{SecretKey: "sk_test_deploymentdefault", BackendURL: backend}), st.Pool)
	modes.Merchants = accounts

	own := map[string]string{}
	for _, name := range []string{"Acme", "Globex"} {
		m, _ := testenv.Merchant(t, st, name)
		own[m] = "sk_test_" + name + "0000own"
		if _, err := accounts.Set(ctx, m, processors.StripeSettings{SecretKey: own[m], PublishableKey: "pk_test_" + name + "0000pub"}); err != nil {
			t.Fatal(err)
		}
	}
	plain, _ := testenv.Merchant(t, st, "Initech")
	own[plain] = "sk_test_deploymentdefault"

	for m, key := range own {
		before := len(seen.List())
		p, publishable, err := modes.ForMerchant(ctx, m, false)
		if err != nil {
			t.Fatal(err)
		}
		if m != plain && !strings.HasPrefix(publishable, "pk_test_") || m == plain && publishable != "" {
			t.Errorf("%s: publishable key %q", m, publishable)
		}
		cus, err := p.EnsureCustomer(ctx, payments.CustomerInput{MerchantRef: m, CustomerRef: "cus_" + m})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.AttachPaymentMethod(ctx, payments.AttachInput{ProcessorCustomerID: cus, PaymentMethod: "pm_card_visa"}); err != nil {
			t.Fatal(err)
		}
		ch, _ := p.Charge(ctx, payments.ChargeInput{IdempotencyKey: m + "/period-1/charge", ProcessorCustomerID: cus,
			PaymentMethod: "pm_card_visa", Amount: 4900, Currency: "USD"})
		_, _, _ = p.FindCharge(ctx, payments.FindChargeInput{IdempotencyKey: m + "/period-1/charge", ProcessorCustomerID: cus})
		ref := ch.ProcessorRef
		if ref == "" {
			ref = "pi_123"
		}
		_, _ = p.Refund(ctx, payments.RefundInput{IdempotencyKey: m + "/refund-1", ChargeRef: ref, Amount: 100, Currency: "USD"})
		_, _ = p.(payments.PaymentLookup).LookupPayment(ctx, ref)

		calls := map[string]bool{}
		for _, r := range seen.List()[before:] {
			calls[strings.Join(strings.SplitN(r.Call, "/", 4)[:3], "/")] = true // POST /v1/payment_methods
			if r.Key != key {
				t.Errorf("merchant %s's call %s carried %q, not its key %q", m, r.Call, r.Key, key)
			}
		}
		for _, want := range []string{"POST /v1/customers", "POST /v1/payment_methods", "POST /v1/payment_intents", "GET /v1/payment_intents", "POST /v1/refunds"} {
			if !calls[want] {
				t.Errorf("merchant %s made no %s call: %v", m, want, calls)
			}
		}
	}

	// the sandbox mode of a merchant with its own Stripe is still the sandbox
	if p, _, err := modes.ForMerchant(ctx, plain, true); err != nil || p.Name() != "sandbox" {
		t.Errorf("sandbox mode: %v %v", p, err)
	}
}

// A merchant whose own key this process cannot open (no encryption key, or another one) is
// refused as a configuration fault — never charged on the deployment's account.
func TestUnopenableAccountIsNotTheDefault(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	m, _ := testenv.Merchant(t, st, "Acme")
	if _, err := (&processors.Accounts{Store: st, Keys: keyring(t, encryptionKey())}).Set(ctx, m,
		processors.StripeSettings{SecretKey: "sk_live_Acme0000own", PublishableKey: "pk_live_Acme0000pub"}); err != nil {
		t.Fatal(err)
	}
	for name, keys := range map[string]*sealed.Keyring{"no key": nil, "another key": keyring(t, encryptionKey())} {
		modes := processors.Split(stripe.New(stripe.Config{SecretKey: "sk_test_deploymentdefault"}), st.Pool)
		modes.Merchants = &processors.Accounts{Store: st, Keys: keys}
		p, _, err := modes.ForMerchant(ctx, m, false)
		pe, ok := err.(*payments.ProcessorError)
		if p != nil || !ok || !pe.IsConfiguration() {
			t.Errorf("%s: %v %v", name, p, err)
		}
	}
}

// Bad settings, an unknown merchant and a process without an encryption key are refused with
// the API's codes, fields named, and change nothing.
func TestSetStripeBadInput(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	m, _ := testenv.Merchant(t, st, "Acme")
	accounts := &processors.Accounts{Store: st, Keys: keyring(t, encryptionKey())}
	good := processors.StripeSettings{SecretKey: "sk_live_Acme0000own", PublishableKey: "pk_live_Acme0000pub"}
	if _, err := accounts.Set(ctx, m, good); err != nil {
		t.Fatal(err)
	}
	before, _, _ := st.MerchantStripeOf(ctx, m)
	wh := func(s string) *string { return &s }
	for _, c := range []struct {
		name     string
		merchant string
		in       processors.StripeSettings
		code     domain.Code
		field    string
	}{
		{"no secret key", m, processors.StripeSettings{PublishableKey: good.PublishableKey}, domain.CodeMissingField, "secretKey"},
		{"a publishable key as the secret", m, processors.StripeSettings{SecretKey: "pk_live_Acme0000pub", PublishableKey: good.PublishableKey}, domain.CodeInvalidField, "secretKey"},
		{"not a Stripe key", m, processors.StripeSettings{SecretKey: "sk_prod_123456789", PublishableKey: good.PublishableKey}, domain.CodeInvalidField, "secretKey"},
		{"a short key", m, processors.StripeSettings{SecretKey: "sk_live_1", PublishableKey: good.PublishableKey}, domain.CodeInvalidField, "secretKey"},
		{"no publishable key", m, processors.StripeSettings{SecretKey: good.SecretKey}, domain.CodeMissingField, "publishableKey"},
		{"modes differ", m, processors.StripeSettings{SecretKey: good.SecretKey, PublishableKey: "pk_test_Acme0000pub"}, domain.CodeInvalidField, "publishableKey"},
		{"bad webhook secret", m, processors.StripeSettings{SecretKey: good.SecretKey, PublishableKey: good.PublishableKey, WebhookSecret: wh("sk_live_nope1234")}, domain.CodeInvalidField, "webhookSecret"},
		{"unknown merchant", "mer_nope", good, domain.CodeNotFound, ""},
	} {
		_, err := accounts.Set(ctx, c.merchant, c.in)
		if e := domain.AsError(err); e == nil || e.Code != c.code || e.Field != c.field || e.Message == "" {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if _, err := (&processors.Accounts{Store: st}).Set(ctx, m, processors.StripeSettings{SecretKey: "sk_live_Other000own", PublishableKey: "pk_live_Other000pub"}); domain.ErrorCode(err) != domain.CodeUnavailable ||
		!strings.Contains(err.Error(), "TOLLGATE_ENCRYPTION_KEY") {
		t.Errorf("without an encryption key: %v", err)
	}
	if after, _, _ := st.MerchantStripeOf(ctx, m); after != before {
		t.Errorf("refused settings changed the stored account:\n%+v\n%+v", before, after)
	}
}

// Rotating the encryption key: with the new key current and the old one in _OLD, stored secrets
// still open; reencrypt seals them under the new key, after which the old key can go.
func TestReencryptAfterKeyRotation(t *testing.T) {
	ctx := context.Background()
	st := testenv.Postgres(t)
	oldKey, newKey := encryptionKey(), encryptionKey()
	m, _ := testenv.Merchant(t, st, "Acme")
	if _, err := (&processors.Accounts{Store: st, Keys: keyring(t, oldKey)}).Set(ctx, m, processors.StripeSettings{
		SecretKey: "sk_test_Acme0000own", PublishableKey: "pk_test_Acme0000pub", WebhookSecret: new("whsec_Acme0000hook")}); err != nil {
		t.Fatal(err)
	}
	during := &processors.Accounts{Store: st, Keys: keyring(t, newKey, oldKey)}
	if acc, ok, err := during.Of(ctx, m); err != nil || !ok || acc.WebhookSecret != "whsec_Acme0000hook" {
		t.Fatalf("during the rotation: %+v %v %v", acc, ok, err)
	}
	if resealed, current, err := during.Reseal(ctx); err != nil || resealed != 1 || current != 0 {
		t.Fatalf("reencrypt: %d %d %v", resealed, current, err)
	}
	if resealed, current, err := during.Reseal(ctx); err != nil || resealed != 0 || current != 1 {
		t.Fatalf("reencrypt again: %d %d %v", resealed, current, err)
	}
	after := &processors.Accounts{Store: st, Keys: keyring(t, newKey)}
	if acc, ok, err := after.Of(ctx, m); err != nil || !ok || acc.WebhookSecret != "whsec_Acme0000hook" {
		t.Fatalf("after the rotation, without the old key: %+v %v %v", acc, ok, err)
	}
	if info, _ := after.Info(ctx, m); info.KeyID != after.Keys.KeyID() {
		t.Errorf("sealed under %s, not the current key %s", info.KeyID, after.Keys.KeyID())
	}
}
