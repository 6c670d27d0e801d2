package sealed_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/internal/sealed"
)

func newKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func TestSealOpenAndRotate(t *testing.T) {
	oldKey, newKey := newKey(), newKey()
	before, err := sealed.New(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := before.Seal("sk_test_abc", "mer_1/stripe_secret_key")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, "sk_test_abc") || !strings.HasPrefix(s, "tgs1."+before.KeyID()+".") {
		t.Fatalf("sealed %q", s)
	}
	if again, _ := before.Seal("sk_test_abc", "mer_1/stripe_secret_key"); again == s {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
	if got, err := before.Open(s, "mer_1/stripe_secret_key"); err != nil || got != "sk_test_abc" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := before.Open(s, "mer_2/stripe_secret_key"); err == nil {
		t.Fatal("a value sealed for one merchant opens for another")
	}
	tampered := s[:len(s)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(s, "AA")]
	if _, err := before.Open(tampered, "mer_1/stripe_secret_key"); err == nil {
		t.Fatal("an altered value opens")
	}

	// rotation: the new key seals, the old one still opens what it sealed
	during, err := sealed.New(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := during.Open(s, "mer_1/stripe_secret_key"); err != nil || got != "sk_test_abc" {
		t.Fatalf("open with the old key in the ring: %q %v", got, err)
	}
	resealed, _ := during.Seal("sk_test_abc", "mer_1/stripe_secret_key")
	if id, _ := sealed.IDOf(resealed); id != during.KeyID() || id == before.KeyID() {
		t.Fatalf("resealed under %s", id)
	}
	after, _ := sealed.New(newKey)
	if _, err := after.Open(s, "mer_1/stripe_secret_key"); err == nil || !strings.Contains(err.Error(), "TOLLGATE_ENCRYPTION_KEY_OLD") {
		t.Fatalf("a value of a dropped key: %v", err)
	}
	if got, err := after.Open(resealed, "mer_1/stripe_secret_key"); err != nil || got != "sk_test_abc" {
		t.Fatalf("the resealed value: %q %v", got, err)
	}
}

func TestBadKeys(t *testing.T) {
	var none *sealed.Keyring
	if _, err := none.Seal("x", "y"); !errors.Is(err, sealed.ErrNoKey) {
		t.Errorf("no key: %v", err)
	}
	if k, err := sealed.New(""); k != nil || err != nil {
		t.Errorf("empty key: %v %v", k, err)
	}
	for _, c := range []struct{ current, old, want string }{
		{"not base64!", "", "not base64"},
		{base64.StdEncoding.EncodeToString([]byte("short")), "", "is 5 bytes"},
		{newKey(), "nope!", "TOLLGATE_ENCRYPTION_KEY_OLD"},
		{"", newKey(), "without TOLLGATE_ENCRYPTION_KEY"},
	} {
		if _, err := sealed.New(c.current, c.old); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%q, %q): %v, want %q", c.current, c.old, err, c.want)
		}
	}
}
