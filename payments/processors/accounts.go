package processors

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/sealed"
	"github.com/tollgate-billing/tollgate/payments"
	"github.com/tollgate-billing/tollgate/payments/stripe"
	"github.com/tollgate-billing/tollgate/store"
)

// Accounts are the merchants' own Stripe accounts (README "Each merchant's own Stripe"): a
// merchant that has set its Stripe secret key has its live charges, refunds, card attachments,
// payment lookups and pages made with that key; one that has not uses the deployment's
// STRIPE_SECRET_KEY. The keys are stored sealed (internal/sealed) under Keys and opened per
// call, so a key set on one process is used by every API replica and worker on their next
// call.
type Accounts struct {
	Store *store.Store
	// Keys seals and opens the stored secrets (TOLLGATE_ENCRYPTION_KEY, and _OLD while
	// rotating); nil: no key — setting a merchant's Stripe is refused, and a merchant that has
	// one cannot be charged by this process (a configuration fault, never the default account).
	Keys *sealed.Keyring
	// BackendURL and HTTPClient are as in stripe.Config (STRIPE_API_URL; tests).
	BackendURL string
	HTTPClient *http.Client

	mu    sync.Mutex
	procs map[string]*stripe.Processor // by sealed secret key: one client per key, kept
}

// Account is the Stripe account a merchant's live mode uses when it has its own.
type Account struct {
	Processor      payments.Processor
	PublishableKey string
	// WebhookSecret is the signing secret of the merchant's endpoint; "" when none is set.
	WebhookSecret string
}

// what binds a sealed value to its merchant and field.
func what(merchant, field string) string { return merchant + "/" + field }

// Of is the merchant's own Stripe account; ok is false when it has none. A stored account that
// this process cannot open (no or wrong TOLLGATE_ENCRYPTION_KEY) is an error, not the default.
func (a *Accounts) Of(ctx context.Context, merchant string) (acc Account, ok bool, err error) {
	if a == nil {
		return Account{}, false, nil
	}
	ms, ok, err := a.Store.MerchantStripeOf(ctx, merchant)
	if err != nil || !ok {
		return Account{}, false, err
	}
	secret, err := a.Keys.Open(ms.SecretKeySealed, what(merchant, "stripe_secret_key"))
	if err != nil {
		return Account{}, true, &payments.ProcessorError{Status: http.StatusForbidden,
			Message: fmt.Sprintf("merchant %s's own Stripe secret key cannot be opened here: %v", merchant, err)}
	}
	acc = Account{PublishableKey: ms.PublishableKey}
	if ms.WebhookSecretSealed != "" {
		if acc.WebhookSecret, err = a.Keys.Open(ms.WebhookSecretSealed, what(merchant, "stripe_webhook_secret")); err != nil {
			return Account{}, true, &payments.ProcessorError{Status: http.StatusForbidden,
				Message: fmt.Sprintf("merchant %s's Stripe webhook secret cannot be opened here: %v", merchant, err)}
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	p, found := a.procs[ms.SecretKeySealed]
	if !found {
		if a.procs == nil || len(a.procs) >= 10_000 {
			a.procs = map[string]*stripe.Processor{}
		}
		p = stripe.New(stripe.Config{SecretKey: secret, BackendURL: a.BackendURL, HTTPClient: a.HTTPClient})
		a.procs[ms.SecretKeySealed] = p
	}
	acc.Processor = p
	return acc, true, nil
}

// StripeSettings is what an operator sets of a merchant's Stripe (CLI flags and admin API
// fields are named after these).
type StripeSettings struct {
	SecretKey      string `json:"secretKey"`
	PublishableKey string `json:"publishableKey"`
	// WebhookSecret is the signing secret of the merchant's Stripe endpoint; nil keeps the one
	// stored (none at first), "" removes it.
	WebhookSecret *string `json:"webhookSecret"`
}

// StripeInfo is a merchant's Stripe as an operator sees it: never a secret.
type StripeInfo struct {
	MerchantRef    string     `json:"merchantRef"`
	Own            bool       `json:"own"` // false: the deployment's STRIPE_SECRET_KEY serves it
	SecretKeyHint  string     `json:"secretKeyHint,omitempty"`
	PublishableKey string     `json:"publishableKey,omitempty"`
	Livemode       bool       `json:"livemode"`
	WebhookSecret  bool       `json:"webhookSecret"` // whether one is set
	KeyID          string     `json:"encryptionKeyId,omitempty"`
	UpdatedAt      *time.Time `json:"updatedAt,omitempty"`
}

func infoOf(ms store.MerchantStripe) StripeInfo {
	id, _ := sealed.IDOf(ms.SecretKeySealed)
	return StripeInfo{MerchantRef: ms.MerchantRef, Own: true, SecretKeyHint: ms.SecretKeyHint, PublishableKey: ms.PublishableKey,
		Livemode: ms.Livemode, WebhookSecret: ms.WebhookSecretSealed != "", KeyID: id, UpdatedAt: &ms.UpdatedAt}
}

var (
	secretKeyRe      = regexp.MustCompile(`^(sk|rk)_(live|test)_[A-Za-z0-9]{8,247}$`)
	publishableKeyRe = regexp.MustCompile(`^pk_(live|test)_[A-Za-z0-9]{8,247}$`)
	webhookSecretRe  = regexp.MustCompile(`^whsec_[A-Za-z0-9+/=]{8,250}$`)
)

// Validate checks the settings with the API's messages (fields named as in the admin API).
func (in *StripeSettings) Validate() error {
	in.SecretKey, in.PublishableKey = strings.TrimSpace(in.SecretKey), strings.TrimSpace(in.PublishableKey)
	switch {
	case in.SecretKey == "":
		return domain.Errorf(domain.CodeMissingField, "secretKey", "secretKey is required: the merchant's Stripe secret key (sk_live_… or sk_test_…, or a restricted rk_ key)")
	case strings.HasPrefix(in.SecretKey, "pk_"):
		return domain.Errorf(domain.CodeInvalidField, "secretKey", "secretKey is a publishable key (pk_…): give the secret key (sk_live_… or sk_test_…) here and the publishable one as publishableKey")
	case !secretKeyRe.MatchString(in.SecretKey):
		return domain.Errorf(domain.CodeInvalidField, "secretKey", "secretKey must be a Stripe secret key: sk_live_… or sk_test_… (or rk_live_…, rk_test_…) followed by letters and digits")
	case in.PublishableKey == "":
		return domain.Errorf(domain.CodeMissingField, "publishableKey", "publishableKey is required: the merchant's Stripe publishable key (pk_…), with which its pages take cards in Stripe's Payment Element")
	case !publishableKeyRe.MatchString(in.PublishableKey):
		return domain.Errorf(domain.CodeInvalidField, "publishableKey", "publishableKey must be a Stripe publishable key: pk_live_… or pk_test_…")
	case livemode(in.SecretKey) != strings.HasPrefix(in.PublishableKey, "pk_live_"):
		return domain.Errorf(domain.CodeInvalidField, "publishableKey", "publishableKey must be of the secret key's mode: both live or both test")
	}
	if in.WebhookSecret != nil {
		*in.WebhookSecret = strings.TrimSpace(*in.WebhookSecret)
		if *in.WebhookSecret != "" && !webhookSecretRe.MatchString(*in.WebhookSecret) {
			return domain.Errorf(domain.CodeInvalidField, "webhookSecret", "webhookSecret must be the signing secret of a Stripe webhook endpoint: whsec_…")
		}
	}
	return nil
}

func livemode(secretKey string) bool {
	return strings.Contains(secretKey[:min(8, len(secretKey))], "_live_")
}

// hint shows which key is stored without showing it: its mode and last four characters.
func hint(secretKey string) string {
	i := strings.Index(secretKey[3:], "_") + 4
	return secretKey[:i] + "…" + secretKey[len(secretKey)-4:]
}

// Set stores a merchant's own Stripe account, its secrets sealed. Bad input, an unknown merchant
// or a process without TOLLGATE_ENCRYPTION_KEY change nothing.
func (a *Accounts) Set(ctx context.Context, merchant string, in StripeSettings) (StripeInfo, error) {
	if err := in.Validate(); err != nil {
		return StripeInfo{}, err
	}
	if _, err := a.Store.GetMerchant(ctx, merchant); err != nil {
		return StripeInfo{}, err
	}
	if a.Keys == nil {
		return StripeInfo{}, domain.Errorf(domain.CodeUnavailable, "", "a merchant's Stripe keys are stored encrypted, and this process has no encryption key: "+
			"set TOLLGATE_ENCRYPTION_KEY (32 random bytes in base64, `openssl rand -base64 32`) on it, the API and the worker")
	}
	ms := store.MerchantStripe{MerchantRef: merchant, SecretKeyHint: hint(in.SecretKey), PublishableKey: in.PublishableKey,
		Livemode: livemode(in.SecretKey)}
	var err error
	if ms.SecretKeySealed, err = a.Keys.Seal(in.SecretKey, what(merchant, "stripe_secret_key")); err != nil {
		return StripeInfo{}, err
	}
	if in.WebhookSecret != nil && *in.WebhookSecret != "" {
		if ms.WebhookSecretSealed, err = a.Keys.Seal(*in.WebhookSecret, what(merchant, "stripe_webhook_secret")); err != nil {
			return StripeInfo{}, err
		}
	}
	ms, err = a.Store.SetMerchantStripe(ctx, ms, in.WebhookSecret == nil)
	if err != nil {
		return StripeInfo{}, err
	}
	return infoOf(ms), nil
}

// Info is the merchant's Stripe as an operator sees it.
func (a *Accounts) Info(ctx context.Context, merchant string) (StripeInfo, error) {
	if _, err := a.Store.GetMerchant(ctx, merchant); err != nil {
		return StripeInfo{}, err
	}
	ms, ok, err := a.Store.MerchantStripeOf(ctx, merchant)
	if err != nil || !ok {
		return StripeInfo{MerchantRef: merchant}, err
	}
	return infoOf(ms), nil
}

// Remove makes the merchant use the deployment's STRIPE_SECRET_KEY again.
func (a *Accounts) Remove(ctx context.Context, merchant string) (StripeInfo, error) {
	if err := a.Store.RemoveMerchantStripe(ctx, merchant); err != nil {
		return StripeInfo{}, err
	}
	return StripeInfo{MerchantRef: merchant}, nil
}

// Reseal re-encrypts every stored secret not sealed under the current key (after
// TOLLGATE_ENCRYPTION_KEY changed, the old one in TOLLGATE_ENCRYPTION_KEY_OLD). It answers how
// many merchants' secrets it resealed and how many were already under the current key; a value
// no key of the ring opens stops it, with what was done so far kept.
func (a *Accounts) Reseal(ctx context.Context) (resealed, current int, err error) {
	if a.Keys == nil {
		return 0, 0, sealed.ErrNoKey
	}
	all, err := a.Store.ListMerchantStripe(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, ms := range all {
		sk, wh, changed, err := a.reseal(ms)
		if err != nil {
			return resealed, current, fmt.Errorf("merchant %s: %w", ms.MerchantRef, err)
		}
		if !changed {
			current++
			continue
		}
		ok, err := a.Store.ResealMerchantStripe(ctx, ms, sk, wh)
		if err != nil {
			return resealed, current, err
		}
		if ok {
			resealed++
		} else {
			current++ // set anew meanwhile, under the current key
		}
	}
	return resealed, current, nil
}

// reseal seals a row's secrets under the current key; changed is false when they already are.
func (a *Accounts) reseal(ms store.MerchantStripe) (sk, wh string, changed bool, err error) {
	sk, wh = ms.SecretKeySealed, ms.WebhookSecretSealed
	for _, f := range []struct {
		v     *string
		field string
	}{{&sk, "stripe_secret_key"}, {&wh, "stripe_webhook_secret"}} {
		if *f.v == "" {
			continue
		}
		if id, _ := sealed.IDOf(*f.v); id == a.Keys.KeyID() {
			continue
		}
		clear, err := a.Keys.Open(*f.v, what(ms.MerchantRef, f.field))
		if err != nil {
			return "", "", false, err
		}
		if *f.v, err = a.Keys.Seal(clear, what(ms.MerchantRef, f.field)); err != nil {
			return "", "", false, err
		}
		changed = true
	}
	return sk, wh, changed, nil
}
