package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"

	"github.com/tollgate-billing/tollgate/internal/metrics"
	"github.com/tollgate-billing/tollgate/internal/telemetry"
)

// temporalTLS is the client side of mutual TLS to Temporal: PEM files and the server name to
// expect. All empty: plain gRPC.
type temporalTLS struct {
	Cert, Key, CA, ServerName string
}

// bindTemporalTLS binds the client side of mutual TLS to the Temporal frontend. Production runs
// Temporal with mTLS and an authorizer (README, "Production"), so the API and the worker present
// a client certificate and check the server's against a private CA.
func (c *config) bindTemporalTLS(fs *flag.FlagSet, e env) {
	strFlag(fs, e, &c.TemporalTLS.Cert, "temporal-tls-cert", "TEMPORAL_TLS_CERT", "", "PEM file of the client certificate presented to Temporal (mTLS)")
	strFlag(fs, e, &c.TemporalTLS.Key, "temporal-tls-key", "TEMPORAL_TLS_KEY", "", "PEM file of the client certificate's private key")
	strFlag(fs, e, &c.TemporalTLS.CA, "temporal-tls-ca", "TEMPORAL_TLS_CA", "", "PEM file of the CA that signed Temporal's server certificate (empty: the system's roots)")
	strFlag(fs, e, &c.TemporalTLS.ServerName, "temporal-tls-server-name", "TEMPORAL_TLS_SERVER_NAME", "", "name expected in Temporal's server certificate (empty: the host of --temporal-address)")
}

// temporalTLSConfig is the TLS configuration for the Temporal client: nil (plain gRPC) when no TLS
// setting is given, else TLS 1.2+ with the client certificate and CA named. A missing or
// unreadable file is an error that names its flag.
func (c config) temporalTLSConfig() (*tls.Config, error) {
	if c.TemporalTLS.Cert == "" && c.TemporalTLS.Key == "" && c.TemporalTLS.CA == "" && c.TemporalTLS.ServerName == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TemporalTLS.ServerName}
	if (c.TemporalTLS.Cert == "") != (c.TemporalTLS.Key == "") {
		return nil, fmt.Errorf("Temporal TLS: set both --temporal-tls-cert and --temporal-tls-key (TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY), or neither")
	}
	if c.TemporalTLS.Cert != "" {
		pair, err := tls.LoadX509KeyPair(c.TemporalTLS.Cert, c.TemporalTLS.Key)
		if err != nil {
			return nil, fmt.Errorf("Temporal TLS: client certificate %s / key %s (--temporal-tls-cert, --temporal-tls-key): %w",
				c.TemporalTLS.Cert, c.TemporalTLS.Key, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if c.TemporalTLS.CA != "" {
		pem, err := os.ReadFile(c.TemporalTLS.CA)
		if err != nil {
			return nil, fmt.Errorf("Temporal TLS: CA file (--temporal-tls-ca): %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("Temporal TLS: CA file %s (--temporal-tls-ca) holds no PEM certificate", c.TemporalTLS.CA)
		}
	}
	return cfg, nil
}

// dialTemporal connects to the Temporal frontend, over TLS when configured.
func dialTemporal(ctx context.Context, c config, log *slog.Logger) (client.Client, error) {
	tlsCfg, err := c.temporalTLSConfig()
	if err != nil {
		return nil, err
	}
	// with tracing on, the interceptor carries the caller's trace into workflows and activities
	interceptors, err := telemetry.TemporalInterceptors()
	if err != nil {
		return nil, err
	}
	tc, err := client.DialContext(ctx, client.Options{HostPort: c.TemporalAddress, Namespace: c.TemporalNamespace,
		Logger: newTemporalLogger(log), ConnectionOptions: client.ConnectionOptions{TLS: tlsCfg}, MetricsHandler: metrics.Temporal(),
		Interceptors: interceptors})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", c.TemporalAddress, err)
	}
	return tc, nil
}
