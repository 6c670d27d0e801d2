package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/testenv"
)

// testPKI is a private CA with a server certificate for "temporal.internal" and a client
// certificate, written as PEM files.
type testPKI struct {
	dir                           string
	ca                            *x509.Certificate
	caKey                         *ecdsa.PrivateKey
	serverCert                    tls.Certificate
	caFile, clientCert, clientKey string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir()}
	var caDER []byte
	p.caKey, caDER = p.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign})
	var err error
	if p.ca, err = x509.ParseCertificate(caDER); err != nil {
		t.Fatal(err)
	}
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", caDER)
	srvKey, srvDER := p.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "temporal"},
		DNSNames: []string{"temporal.internal"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	p.serverCert = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliKey, cliDER := p.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "tollgate-worker"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	p.clientCert = p.write(t, "client.pem", "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	p.clientKey = p.write(t, "client-key.pem", "EC PRIVATE KEY", keyDER)
	return p
}

// issue makes a key and a certificate for tmpl, signed by the CA (self-signed for the CA).
func (p *testPKI) issue(t *testing.T, tmpl *x509.Certificate) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = serial, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	parent, signer := tmpl, key
	if p.ca != nil {
		parent, signer = p.ca, p.caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return key, der
}

func (p *testPKI) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mtlsFront listens on loopback with mutual TLS, as a production Temporal frontend does, and
// passes each connection that shows a client certificate of the CA on to backend (the test's
// plain embedded frontend). verified counts those connections.
func mtlsFront(t *testing.T, p *testPKI, backend string) (addr string, verified *atomic.Int64) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{p.serverCert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, NextProtos: []string{"h2"}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	verified = new(atomic.Int64)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if err := conn.(*tls.Conn).Handshake(); err != nil {
					return
				}
				verified.Add(1)
				up, err := net.Dial("tcp", backend)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, conn)
				io.Copy(conn, up)
			}()
		}
	}()
	return ln.Addr().String(), verified
}

// TestTemporalClientTLS: with TEMPORAL_TLS_* set, the API and worker reach a Temporal frontend
// that demands mutual TLS; without the client certificate they do not get in; bad files are
// refused before any dial with the flag named.
func TestTemporalClientTLS(t *testing.T) {
	p := newTestPKI(t)
	srv := testenv.TemporalServer(t)
	addr, verified := mtlsFront(t, p, srv.FrontendAddress())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	base := config{TemporalAddress: addr, TemporalNamespace: srv.Namespace(), TemporalTLS: temporalTLS{ServerName: "temporal.internal", CA: p.caFile}}

	t.Run("mutual TLS connects", func(t *testing.T) {
		c := base
		c.TemporalTLS.Cert, c.TemporalTLS.Key = p.clientCert, p.clientKey
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		tc, err := dialTemporal(ctx, c, log)
		if err != nil {
			t.Fatalf("dial over mTLS: %v", err)
		}
		defer tc.Close()
		if _, err := tc.CheckHealth(ctx, nil); err != nil {
			t.Fatalf("health over mTLS: %v", err)
		}
		if verified.Load() == 0 {
			t.Fatal("no connection showed a verified client certificate")
		}
	})
	t.Run("no client certificate is refused", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if tc, err := dialTemporal(ctx, base, log); err == nil {
			tc.Close()
			t.Fatal("dial without a client certificate succeeded")
		}
	})
	t.Run("plain gRPC is refused", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if tc, err := dialTemporal(ctx, config{TemporalAddress: addr, TemporalNamespace: srv.Namespace()}, log); err == nil {
			tc.Close()
			t.Fatal("plain dial to the mTLS frontend succeeded")
		}
	})
	bad := filepath.Join(t.TempDir(), "not-pem.txt")
	if err := os.WriteFile(bad, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		cfg  config
		want string
	}{
		"cert without key":  {config{TemporalTLS: temporalTLS{Cert: p.clientCert}}, "set both --temporal-tls-cert and --temporal-tls-key"},
		"missing cert file": {config{TemporalTLS: temporalTLS{Cert: filepath.Join(p.dir, "nope.pem"), Key: p.clientKey}}, "--temporal-tls-cert"},
		"key of no cert":    {config{TemporalTLS: temporalTLS{Cert: p.caFile, Key: p.clientKey}}, "--temporal-tls-key"},
		"CA not PEM":        {config{TemporalTLS: temporalTLS{CA: bad}}, "--temporal-tls-ca) holds no PEM certificate"},
		"CA missing":        {config{TemporalTLS: temporalTLS{CA: filepath.Join(p.dir, "nope.pem")}}, "CA file (--temporal-tls-ca)"},
	} {
		t.Run(name, func(t *testing.T) {
			tc.cfg.TemporalAddress = addr
			_, err := dialTemporal(context.Background(), tc.cfg, log)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestTemporalTLSSettingsAreDocumented: api and worker read the TLS settings from flags and the
// environment, like every other setting.
func TestTemporalTLSSettingsAreDocumented(t *testing.T) {
	for _, sub := range []string{"api", "worker"} {
		names := envNamesOf(t, sub)
		for _, want := range []string{"TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CA", "TEMPORAL_TLS_SERVER_NAME"} {
			if !slices.Contains(names, want) {
				t.Errorf("tollgate %s does not read %s", sub, want)
			}
		}
	}
}
