package testenv

import (
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/tollgate-billing/tollgate/internal/sealed"
)

// EncryptionKey is a new random TOLLGATE_ENCRYPTION_KEY: 32 bytes in base64.
func EncryptionKey() string {
	b := make([]byte, sealed.KeySize)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// Keyring is a keyring of the keys given (the first current), or of a new random key.
func Keyring(t testing.TB, keys ...string) *sealed.Keyring {
	t.Helper()
	if len(keys) == 0 {
		keys = []string{EncryptionKey()}
	}
	k, err := sealed.New(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
