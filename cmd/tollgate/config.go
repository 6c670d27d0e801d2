package main

import (
	"cmp"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/internal/sealed"
	"github.com/tollgate-billing/tollgate/internal/telemetry"
	"github.com/tollgate-billing/tollgate/workflows"
)

// config is every setting of every subcommand; each has a flag and an environment variable.
type config struct {
	DatabaseURL         string
	TemporalAddress     string
	TemporalNamespace   string
	TemporalTLS         temporalTLS
	Addr                string
	PublicURL           string
	StripeSecretKey     string
	StripePublishable   string
	StripeAPIURL        string
	StripeWebhookSecret string
	LogLevel            string
	LogFormat           string
	DataDir             string
	PGPort              int
	TemporalPort        int
	UIPort              int
	APIKey              string
	APIURL              string
	WebSecret           string
	CheckoutTTL         time.Duration
	PortalTTL           time.Duration
	ClientIPHeader      string
	MetricsAddr         string
	ReconcileEvery      time.Duration
	ReconcileWindow     time.Duration
	AdminToken          string
	EncryptionKey       string
	EncryptionKeyOld    string
	KeyRate             float64
	KeyBurst            int
	WebhookRetries      []time.Duration
}

func strFlag(fs *flag.FlagSet, e env, p *string, name, envName, def, usage string) {
	if v := e.getenv(envName); v != "" {
		def = v
	}
	fs.StringVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, envName))
}

// secretFlag is strFlag for a value that must never be shown: --help and flag errors print no
// default for it (a default taken from the environment would print the secret), only whether
// the environment set it.
func secretFlag(fs *flag.FlagSet, e env, p *string, name, envName, usage string) {
	*p = e.getenv(envName)
	usage = fmt.Sprintf("%s (env %s)", usage, envName)
	if *p != "" {
		usage += " (set in the environment; not shown)"
	}
	fs.Var(secretValue{p}, name, usage)
}

// secretValue is a flag.Value whose String is always empty, so the flag package never prints
// what it holds.
type secretValue struct{ p *string }

func (s secretValue) String() string { return "" }

func (s secretValue) Set(v string) error {
	*s.p = v
	return nil
}

func intFlag(fs *flag.FlagSet, e env, p *int, name, envName string, def int, usage string) {
	if v, err := strconv.Atoi(e.getenv(envName)); err == nil {
		def = v
	}
	fs.IntVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, envName))
}

func (c *config) bindDatabase(fs *flag.FlagSet, e env) {
	secretFlag(fs, e, &c.DatabaseURL, "database-url", "DATABASE_URL", "Postgres `URL`, e.g. postgres://user:pass@host:5432/tollgate")
}

// bindAPIClient binds where a client command finds the Tollgate API and the merchant's key
// (mcp, listen); keyUsage says which keys the command takes.
func (c *config) bindAPIClient(fs *flag.FlagSet, e env, keyUsage string) {
	strFlag(fs, e, &c.APIURL, "api-url", "TOLLGATE_API_URL", "http://127.0.0.1:8080", "URL of the Tollgate API")
	secretFlag(fs, e, &c.APIKey, "api-key", "TOLLGATE_API_KEY", keyUsage)
}

func (c *config) bindTemporal(fs *flag.FlagSet, e env) {
	strFlag(fs, e, &c.TemporalAddress, "temporal-address", "TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend host:port")
	strFlag(fs, e, &c.TemporalNamespace, "temporal-namespace", "TEMPORAL_NAMESPACE", "default", "Temporal namespace")
}

func (c *config) bindServer(fs *flag.FlagSet, e env) {
	strFlag(fs, e, &c.Addr, "addr", "TOLLGATE_ADDR", "127.0.0.1:8080", "API listen address")
	strFlag(fs, e, &c.PublicURL, "public-url", "TOLLGATE_PUBLIC_URL", "", "URL customers reach this server at, for checkout and portal links (default http://<addr>)")
	secretFlag(fs, e, &c.WebSecret, "web-secret", "TOLLGATE_WEB_SECRET", "`secret` keying the hosted pages' CSRF tokens; the same on every API replica (empty: random per process)")
	durFlag(fs, e, &c.CheckoutTTL, "checkout-ttl", "TOLLGATE_CHECKOUT_TTL", 24*time.Hour, "how long a checkout link works")
	durFlag(fs, e, &c.PortalTTL, "portal-ttl", "TOLLGATE_PORTAL_TTL", 15*time.Minute, "how long a customer-portal link works")
	secretFlag(fs, e, &c.AdminToken, "admin-token", "TOLLGATE_ADMIN_TOKEN", "bearer `token` of the operator's admin API under /admin/v1 (merchants and keys); at least 32 characters; empty: the admin API is off (404)")
	floatFlag(fs, e, &c.KeyRate, "key-rate-limit", "TOLLGATE_KEY_RATE_LIMIT", api.DefaultKeyRate, "requests a second each API key may make on each API server (token bucket; over it: 429 RATE_LIMITED with Retry-After); 0: no limit")
	intFlag(fs, e, &c.KeyBurst, "key-rate-burst", "TOLLGATE_KEY_RATE_BURST", 0, "the bucket's size: requests a key may make at once (0: two seconds' worth of --key-rate-limit)")
	strFlag(fs, e, &c.ClientIPHeader, "client-ip-header", "TOLLGATE_CLIENT_IP_HEADER", "", "header in which your reverse proxy passes the client's address (its last entry is used; e.g. X-Forwarded-For) for the card attempt limits; empty: the connection's peer")
}

func floatFlag(fs *flag.FlagSet, e env, p *float64, name, envName string, def float64, usage string) {
	if v, err := strconv.ParseFloat(e.getenv(envName), 64); err == nil {
		def = v
	}
	fs.Float64Var(p, name, def, fmt.Sprintf("%s (env %s)", usage, envName))
}

// keyRate is api.Config.KeyRate: the flag's 0 (no limit) is the API's negative.
func (c config) keyRate() float64 {
	if c.KeyRate <= 0 {
		return -1
	}
	return c.KeyRate
}

func durFlag(fs *flag.FlagSet, e env, p *time.Duration, name, envName string, def time.Duration, usage string) {
	if v, err := time.ParseDuration(e.getenv(envName)); err == nil {
		def = v
	}
	fs.DurationVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, envName))
}

func (c *config) bindPayments(fs *flag.FlagSet, e env) {
	secretFlag(fs, e, &c.StripeSecretKey, "stripe-secret-key", "STRIPE_SECRET_KEY", "Stripe secret `key` for live keys' money; empty = no live mode (sandbox keys always use the built-in sandbox)")
	strFlag(fs, e, &c.StripePublishable, "stripe-publishable-key", "STRIPE_PUBLISHABLE_KEY", "", "Stripe publishable key for the checkout page's Payment Element")
	strFlag(fs, e, &c.StripeAPIURL, "stripe-api-url", "STRIPE_API_URL", "", "override Stripe's API URL (e.g. stripe-mock at http://127.0.0.1:12111)")
	secretFlag(fs, e, &c.StripeWebhookSecret, "stripe-webhook-secret", "STRIPE_WEBHOOK_SECRET", "signing `secret` (whsec_…) of the Stripe webhook endpoint POST /v1/webhooks/stripe; empty: the route answers 503")
	c.bindEncryption(fs, e)
}

// bindEncryption binds the key that seals the merchants' own Stripe keys in Postgres.
func (c *config) bindEncryption(fs *flag.FlagSet, e env) {
	secretFlag(fs, e, &c.EncryptionKey, "encryption-key", "TOLLGATE_ENCRYPTION_KEY", "`key` (32 random bytes in base64: openssl rand -base64 32) sealing merchants' own Stripe keys in Postgres (AES-256-GCM); the same on the API and the worker; empty: merchants cannot have their own Stripe")
	secretFlag(fs, e, &c.EncryptionKeyOld, "encryption-key-old", "TOLLGATE_ENCRYPTION_KEY_OLD", "earlier encryption `keys`, comma-separated, that still open what they sealed while `tollgate merchants reencrypt` moves it to the current key")
}

// keyring is the encryption keys (internal/sealed); nil without a key.
func (c config) keyring() (*sealed.Keyring, error) {
	return sealed.New(c.EncryptionKey, strings.Split(c.EncryptionKeyOld, ",")...)
}

// bindReconcile binds the reconciliation schedule the worker keeps (workflows/reconcile.go).
func (c *config) bindReconcile(fs *flag.FlagSet, e env) {
	durFlag(fs, e, &c.ReconcileEvery, "reconcile-every", "TOLLGATE_RECONCILE_EVERY", 24*time.Hour,
		"how often the Temporal schedule reconciles the processors' payments and refunds with the ledger; 0 removes the schedule")
	durFlag(fs, e, &c.ReconcileWindow, "reconcile-window", "TOLLGATE_RECONCILE_WINDOW", 72*time.Hour,
		"how far back each scheduled reconciliation looks")
}

// bindWebhooks binds the retry schedule of outbound webhook deliveries (workflows/webhook.go).
func (c *config) bindWebhooks(fs *flag.FlagSet, e env) {
	def := e.getenv("TOLLGATE_WEBHOOK_RETRIES")
	if def == "" {
		def = formatDurations(workflows.DefaultWebhookBackoff)
	}
	c.WebhookRetries, _ = parseDurations(def)
	fs.Func("webhook-retries", "comma-separated `waits` before each retry of a webhook delivery (env TOLLGATE_WEBHOOK_RETRIES; default "+
		formatDurations(workflows.DefaultWebhookBackoff)+")", func(v string) error {
		d, err := parseDurations(v)
		c.WebhookRetries = d
		return err
	})
}

func formatDurations(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return strings.Join(s, ",")
}

func parseDurations(v string) ([]time.Duration, error) {
	var out []time.Duration
	for f := range strings.SplitSeq(v, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%q is not a positive duration", f)
		}
		out = append(out, d)
	}
	return out, nil
}

// bindLog binds the log level and format; format is the command's default: json for the
// servers (one object a line, for a log pipeline), text where a person reads the lines.
func (c *config) bindLog(fs *flag.FlagSet, e env, format string) {
	strFlag(fs, e, &c.LogLevel, "log-level", "LOG_LEVEL", "info", "debug, info, warn or error")
	strFlag(fs, e, &c.LogFormat, "log-format", "TOLLGATE_LOG_FORMAT", format, "log format: json or text")
}

// checkLog refuses a log format the logger does not know.
func (c config) checkLog() error {
	if c.LogFormat != telemetry.LogJSON && c.LogFormat != telemetry.LogText {
		return fmt.Errorf("--log-format (TOLLGATE_LOG_FORMAT) %q: want json or text", c.LogFormat)
	}
	return nil
}

// logger writes to stderr in the format checkLog accepted (text when unset); each line of a
// request carries its request id.
func (c config) logger(e env) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(c.LogLevel))); err != nil {
		level = slog.LevelInfo
	}
	l, err := telemetry.NewLogger(e.stderr, cmp.Or(c.LogFormat, telemetry.LogText), level)
	if err != nil {
		l, _ = telemetry.NewLogger(e.stderr, telemetry.LogText, level)
	}
	return l
}

// checkAdminToken refuses a guessable admin token: whoever has it makes and revokes every key.
func (c config) checkAdminToken() error {
	if c.AdminToken != "" && len(c.AdminToken) < 32 {
		return fmt.Errorf("TOLLGATE_ADMIN_TOKEN is shorter than 32 characters: use a long random value, e.g. `openssl rand -hex 32`, or leave it unset to keep the admin API off")
	}
	return nil
}

func (c config) requireDatabase() error {
	if c.DatabaseURL == "" {
		return fmt.Errorf("no database: set DATABASE_URL or --database-url (or run `tollgate dev`)")
	}
	return nil
}

func (c config) publicURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	return "http://" + c.Addr
}
