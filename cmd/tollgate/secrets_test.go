package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// secretEnv holds a value for every secret the binary reads from the environment.
var secretEnv = map[string]string{
	"DATABASE_URL":          "postgres://tollgate:pw-db-Zq81x@127.0.0.1:1/tollgate?sslmode=disable",
	"STRIPE_SECRET_KEY":     "sk_live_envSecretQ7w",
	"TOLLGATE_WEB_SECRET":   "web-secret-Rk2p",
	"TOLLGATE_API_KEY":      "sk_sandbox_envKeyM3n",
	"STRIPE_WEBHOOK_SECRET": "whsec_envWebhookT5v",
	// the secret `tollgate listen` signs with
	"TOLLGATE_WEBHOOK_SECRET": "whsec_envListenR8u",
}

func secretGetenv(k string) string { return secretEnv[k] }

// leaked names the secret values of secretEnv that text shows (the database password counts).
func leaked(text string) []string {
	var out []string
	for _, secret := range []string{"pw-db-Zq81x", "sk_live_envSecretQ7w", "web-secret-Rk2p", "sk_sandbox_envKeyM3n", "whsec_envWebhookT5v", "whsec_envListenR8u"} {
		if strings.Contains(text, secret) {
			out = append(out, secret)
		}
	}
	return out
}

// TestHelpAndFlagErrorsHideSecrets: with every secret in the environment, `--help` and a flag
// error (which prints the usage) show none of them, only that they are set; a failing
// connection names the database without its password.
func TestHelpAndFlagErrorsHideSecrets(t *testing.T) {
	for _, sub := range []string{"dev", "api", "worker", "migrate", "mcp", "listen"} {
		for _, args := range [][]string{{sub, "--help"}, {sub, "--no-such-flag"}} {
			var out bytes.Buffer
			err := run(context.Background(), args, secretGetenv, &out, &out)
			text := out.String()
			if err != nil {
				text += err.Error()
			}
			if l := leaked(text); len(l) > 0 {
				t.Errorf("tollgate %s shows %v:\n%s", strings.Join(args, " "), l, text)
			}
			if sub != "mcp" && sub != "dev" && sub != "listen" && !strings.Contains(text, "(env DATABASE_URL) (set in the environment; not shown)") {
				t.Errorf("tollgate %s does not say DATABASE_URL is set:\n%s", strings.Join(args, " "), text)
			}
		}
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"migrate"}, secretGetenv, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("migrate against a closed port: %v", err)
	}
	if l := leaked(err.Error() + out.String()); len(l) > 0 {
		t.Errorf("migrate's error shows %v: %v", l, err)
	}
}

// TestMCPRelayRefusesPlainHTTPToAnotherHost: the key would cross the network in clear.
func TestMCPRelayRefusesPlainHTTPToAnotherHost(t *testing.T) {
	for _, u := range []string{"http://api.example.com", "http://10.1.2.3:8080/", "http://tollgate.internal"} {
		var out bytes.Buffer
		err := run(context.Background(), []string{"mcp", "--api-url", u}, secretGetenv, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "plain http to another host") {
			t.Errorf("--api-url %s: got %v", u, err)
		}
	}
	for _, u := range []string{"https://api.example.com", "http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"} {
		if err := checkAPIURL(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
}
