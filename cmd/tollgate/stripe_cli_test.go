package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/internal/testenv"
	"github.com/tollgate-billing/tollgate/store"
)

// cliEnv runs `tollgate args…` with the environment env.
func cliEnv(env map[string]string, args ...string) (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &out)
	return out.String(), err
}

// TestMerchantStripeCLI: set-stripe stores a merchant's own Stripe keys sealed (show tells which
// key, never the secret); bad input and a missing encryption key change nothing; after the
// encryption key is rotated, reencrypt moves the secrets to the new key.
func TestMerchantStripeCLI(t *testing.T) {
	dbURL := testenv.PostgresURL(t)
	oldKey := testenv.EncryptionKey()
	env := map[string]string{"DATABASE_URL": dbURL, "TOLLGATE_ENCRYPTION_KEY": oldKey}
	out, err := cliEnv(env, "merchants", "create", "--name", "Acme")
	if err != nil {
		t.Fatal(err, out)
	}
	m := regexp.MustCompile(`merchant (mer_\w+)`).FindStringSubmatch(out)[1]
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored := func() string {
		var s string
		if err := st.Pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(s::text, ','), '') FROM merchant_stripe s`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	set := []string{"merchants", "set-stripe", "--merchant", m, "--secret-key", "sk_live_Acme0000secret9876", "--publishable-key", "pk_live_Acme0000pub"}
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{env, []string{"merchants", "set-stripe", "--secret-key", "sk_live_Acme0000secret9876"}, "MISSING_FIELD --merchant"},
		{env, []string{"merchants", "set-stripe", "--merchant", m}, "MISSING_FIELD --secret-key"},
		{env, []string{"merchants", "set-stripe", "--merchant", m, "--secret-key", "sk_prod_123456789"}, "INVALID_FIELD --secret-key"},
		{env, []string{"merchants", "set-stripe", "--merchant", m, "--secret-key", "pk_live_Acme0000pub"}, "INVALID_FIELD --secret-key: secretKey is a publishable key"},
		{env, []string{"merchants", "set-stripe", "--merchant", m, "--secret-key", "sk_live_Acme0000secret9876"}, "MISSING_FIELD --publishable-key"},
		{env, append(set[:len(set)-1:len(set)-1], "pk_test_Acme0000pub"), "INVALID_FIELD --publishable-key"},
		{env, append(append([]string{}, set...), "--webhook-secret", "nope"), "INVALID_FIELD --webhook-secret"},
		{env, []string{"merchants", "set-stripe", "--merchant", "mer_nope", "--secret-key", "sk_live_Acme0000secret9876", "--publishable-key", "pk_live_Acme0000pub"}, "RESOURCE_NOT_FOUND"},
		{map[string]string{"DATABASE_URL": dbURL}, set, "TOLLGATE_ENCRYPTION_KEY"},
		{map[string]string{"DATABASE_URL": dbURL, "TOLLGATE_ENCRYPTION_KEY": "short"}, set, "TOLLGATE_ENCRYPTION_KEY"},
	} {
		if out, err := cliEnv(c.env, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("tollgate %s: %v, want %q\n%s", strings.Join(c.args, " "), err, c.want, out)
		}
	}
	if s := stored(); s != "" {
		t.Fatalf("refused input stored %s", s)
	}

	out, err = cliEnv(env, append(set, "--webhook-secret", "whsec_Acme0000hook")...)
	if err != nil || !strings.Contains(out, "sk_live_…9876") || strings.Contains(out, "secret9876") || !strings.Contains(out, "/v1/webhooks/stripe/"+m) {
		t.Fatalf("set-stripe: %v\n%s", err, out)
	}
	if s := stored(); strings.Contains(s, "secret9876") || strings.Contains(s, "whsec_Acme0000hook") {
		t.Fatalf("a secret is stored in clear: %s", s)
	}
	if out, err := cliEnv(env, "merchants", "show", m); err != nil || !strings.Contains(out, "its own: sk_live_…9876") || !oneTable(out) {
		t.Errorf("show: %v\n%s", err, out)
	}

	// rotate: the new key current, the old one kept to open; reencrypt; then the old one can go
	newKey := testenv.EncryptionKey()
	rotating := map[string]string{"DATABASE_URL": dbURL, "TOLLGATE_ENCRYPTION_KEY": newKey, "TOLLGATE_ENCRYPTION_KEY_OLD": oldKey}
	if out, err := cliEnv(rotating, "merchants", "reencrypt"); err != nil || !strings.Contains(out, "resealed the Stripe secrets of 1 merchants") {
		t.Fatalf("reencrypt: %v\n%s", err, out)
	}
	if out, err := cliEnv(map[string]string{"DATABASE_URL": dbURL, "TOLLGATE_ENCRYPTION_KEY": oldKey}, "merchants", "reencrypt"); err == nil ||
		!strings.Contains(err.Error(), "TOLLGATE_ENCRYPTION_KEY_OLD") {
		t.Errorf("reencrypt with only the old key, after the rotation: %v\n%s", err, out)
	}
	if out, err := cliEnv(map[string]string{"DATABASE_URL": dbURL, "TOLLGATE_ENCRYPTION_KEY": newKey}, "merchants", "reencrypt"); err != nil ||
		!strings.Contains(out, "0 merchants") || !strings.Contains(out, "1 were already") {
		t.Errorf("reencrypt with the new key alone: %v\n%s", err, out)
	}
	if out, err := cliEnv(env, "merchants", "remove-stripe", "--merchant", m); err != nil || !strings.Contains(out, "the deployment's") {
		t.Errorf("remove-stripe: %v\n%s", err, out)
	}
}

// oneTable reports whether every line's value starts in the same column, as one table prints it.
func oneTable(out string) bool {
	col := -1
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		i := strings.Index(line, "  ")
		if i < 0 {
			return false
		}
		at := i + len(line[i:]) - len(strings.TrimLeft(line[i:], " "))
		if col >= 0 && at != col {
			return false
		}
		col = at
	}
	return col > 0
}
