package main

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// A live Stripe secret key without a publishable key would show the typed-card form and send
// raw card numbers through this server: api and dev refuse to start, saying what to set, before
// they open anything. The worker takes no cards and starts as before.
func TestServersRefuseStripeWithoutPublishableKey(t *testing.T) {
	const secret = "sk_live_51NotARealKeyButLongEnough"
	// dev gets a taken API port: were the check missing, it would stop there, having started
	// nothing.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"api without publishable key", []string{"api"}, map[string]string{"STRIPE_SECRET_KEY": secret}, "STRIPE_PUBLISHABLE_KEY is not"},
		{"dev without publishable key", []string{"dev", "--data-dir", t.TempDir(), "--addr", taken.Addr().String()}, map[string]string{"STRIPE_SECRET_KEY": secret}, "STRIPE_PUBLISHABLE_KEY is not"},
		{"api with a secret key as publishable key", []string{"api"},
			map[string]string{"STRIPE_SECRET_KEY": secret, "STRIPE_PUBLISHABLE_KEY": secret}, "not a publishable key"},
		{"api with keys of two modes", []string{"api"},
			map[string]string{"STRIPE_SECRET_KEY": secret, "STRIPE_PUBLISHABLE_KEY": "pk_test_abc"}, "different modes"},
		// Past the check, these stop at the next missing setting: the database.
		{"api with both keys", []string{"api"},
			map[string]string{"STRIPE_SECRET_KEY": secret, "STRIPE_PUBLISHABLE_KEY": "pk_live_abc"}, "no database"},
		{"api on the sandbox", []string{"api"}, map[string]string{}, "no database"},
		{"worker with a secret key only", []string{"worker"}, map[string]string{"STRIPE_SECRET_KEY": secret}, "no database"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := run(ctx, tc.args, func(k string) string { return tc.env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one saying %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "51NotARealKey") {
				t.Errorf("the error prints the secret key: %v", err)
			}
		})
	}
}
