// Package webhooks is what outbound webhooks need beside Postgres and Temporal: endpoint URLs
// checked (when saved and again when connecting), signing secrets, Standard Webhooks signatures
// and the one HTTP client deliveries are sent with.
package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"

	"github.com/tollgate-billing/tollgate/domain"
	"github.com/tollgate-billing/tollgate/internal/telemetry"
)

// SecretPrefix starts every signing secret, as Standard Webhooks libraries expect.
const SecretPrefix = "whsec_"

// NewSecret is whsec_ and the base64 of 24 random bytes.
func NewSecret() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux; a failure means the machine is broken
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// Sign answers the webhook-signature header of a delivery: "v1,<base64 HMAC-SHA256 of
// id.timestamp.body>" for each secret, space-separated (receivers accept any one).
func Sign(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	parts := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
		if err != nil {
			return "", fmt.Errorf("webhook secret: %w", err)
		}
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%d.", id, ts.Unix())
		mac.Write(body)
		parts = append(parts, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(parts, " "), nil
}

// Headers sets the Standard Webhooks headers of a delivery of event id.
func Headers(h http.Header, secrets []string, id string, ts time.Time, body []byte) error {
	sig, err := Sign(secrets, id, ts, body)
	if err != nil {
		return err
	}
	h.Set("Content-Type", "application/json")
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", sig)
	return nil
}

// CheckURL refuses an endpoint URL that cannot be delivered to in mode: not absolute http(s),
// credentials in it, and in live mode anything but https or a host that is a loopback,
// private, link-local or metadata address (names are checked again at connect time, Dialer).
func CheckURL(raw, mode string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return domain.Errorf(domain.CodeInvalidField, "url", "url must be an absolute http or https URL, not %q", raw)
	}
	if u.User != nil {
		return domain.Errorf(domain.CodeInvalidField, "url", "url must not carry credentials")
	}
	if len(raw) > 2048 {
		return domain.Errorf(domain.CodeInvalidField, "url", "url must be at most 2048 characters")
	}
	if domain.IsSandbox(mode) {
		return nil
	}
	if u.Scheme != "https" {
		return domain.Errorf(domain.CodeInvalidField, "url", "a live endpoint's url must be https")
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "metadata.google.internal" {
		return domain.Errorf(domain.CodeInvalidField, "url", "a live endpoint must not be on %s", host)
	}
	if ip, err := netip.ParseAddr(host); err == nil && !Public(ip) {
		return domain.Errorf(domain.CodeInvalidField, "url", "a live endpoint must not be on a loopback, private, link-local or metadata address (%s)", ip)
	}
	return nil
}

// Public reports whether ip is an address a live delivery may connect to.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() && !ip.IsLinkLocalMulticast() &&
		!ip.IsUnspecified() && !ip.IsMulticast() && !ip.IsInterfaceLocalMulticast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(ip) && // carrier-grade NAT
		!netip.MustParsePrefix("fd00:ec2::/32").Contains(ip) // a cloud's metadata over IPv6
}

// Timeout bounds one delivery attempt, from connecting to the end of the answer.
const Timeout = 15 * time.Second

// NewClient is the client deliveries of mode are sent with: 15 s a request, redirects not
// followed, and in live mode a dialer that refuses non-public addresses when it connects (after
// DNS, so a name that resolves to 127.0.0.1 or 169.254.169.254 is refused too). When tracing is
// on as it is made, each request is a client span; the receiver is not part of the trace, so no
// trace context is sent to it.
func NewClient(mode string) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !domain.IsSandbox(mode) {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !Public(ap.Addr()) {
				return fmt.Errorf("refused to connect to %s: not a public address", address)
			}
			return nil
		}
	}
	tr := &http.Transport{DialContext: d.DialContext, Proxy: nil, MaxIdleConnsPerHost: 32,
		IdleConnTimeout: 60 * time.Second, TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: Timeout}
	return telemetry.Client(&http.Client{Transport: tr, Timeout: Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()))
}
