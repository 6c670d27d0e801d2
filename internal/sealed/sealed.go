// Package sealed encrypts the few secrets Tollgate keeps in Postgres (a merchant's Stripe secret
// key and webhook signing secret) with AES-256-GCM from Go's standard library (crypto/aes,
// crypto/cipher), under a key the database never sees (TOLLGATE_ENCRYPTION_KEY).
//
// A sealed value is "tgs1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>": the key id (the first
// 8 hex digits of the key's SHA-256, nothing secret) names the key that sealed it, so a keyring
// holding the current key and the old ones opens values sealed under any of them while an
// operator rotates (README "Merchants' own Stripe"). Each value is bound to what it is — its
// merchant and field, as additional data — so a sealed value copied to another merchant's row
// does not open.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of an encryption key: AES-256.
const KeySize = 32

const prefix = "tgs1"

// ErrNoKey is sealing or opening without a key configured.
var ErrNoKey = errors.New("no encryption key: set TOLLGATE_ENCRYPTION_KEY to 32 random bytes in base64 (`openssl rand -base64 32`)")

type key struct {
	id   string
	aead cipher.AEAD
}

// Keyring seals with its current key and opens with any of its keys. A nil *Keyring has no key:
// it seals and opens nothing (ErrNoKey).
type Keyring struct {
	current *key
	byID    map[string]*key
}

// ParseKey reads a key: 32 bytes in base64 (standard or URL alphabet, padded or not).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("an encryption key is %d bytes in base64, this one is %d bytes: make one with `openssl rand -base64 32`", KeySize, len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("an encryption key is 32 bytes in base64 (`openssl rand -base64 32`); this one is not base64")
}

// New makes a keyring from the current key and older ones (each base64, as ParseKey reads it;
// empty strings are skipped). No current key: nil, no error — a deployment that keeps no secret.
func New(current string, old ...string) (*Keyring, error) {
	if strings.TrimSpace(current) == "" {
		for _, o := range old {
			if strings.TrimSpace(o) != "" {
				return nil, errors.New("TOLLGATE_ENCRYPTION_KEY_OLD is set without TOLLGATE_ENCRYPTION_KEY: the old keys open what is sealed, the current one seals")
			}
		}
		return nil, nil
	}
	k := &Keyring{byID: map[string]*key{}}
	for i, s := range append([]string{current}, old...) {
		if strings.TrimSpace(s) == "" {
			continue
		}
		raw, err := ParseKey(s)
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("TOLLGATE_ENCRYPTION_KEY: %w", err)
			}
			return nil, fmt.Errorf("TOLLGATE_ENCRYPTION_KEY_OLD (key %d): %w", i, err)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(raw)
		kk := &key{id: hex.EncodeToString(sum[:4]), aead: aead}
		if i == 0 {
			k.current = kk
		}
		if _, dup := k.byID[kk.id]; !dup {
			k.byID[kk.id] = kk
		}
	}
	return k, nil
}

// KeyID is the current key's id ("" without a key).
func (k *Keyring) KeyID() string {
	if k == nil {
		return ""
	}
	return k.current.id
}

// Seal encrypts plaintext under the current key, bound to what (e.g. "mer_…/stripe_secret_key").
func (k *Keyring) Seal(plaintext, what string) (string, error) {
	if k == nil {
		return "", ErrNoKey
	}
	ct := k.current.aead.Seal(nil, nil, []byte(plaintext), []byte(what))
	return prefix + "." + k.current.id + "." + base64.RawURLEncoding.EncodeToString(ct), nil
}

// Open decrypts a sealed value bound to what, with whichever of the keyring's keys sealed it.
func (k *Keyring) Open(sealed, what string) (string, error) {
	if k == nil {
		return "", ErrNoKey
	}
	id, err := IDOf(sealed)
	if err != nil {
		return "", err
	}
	kk, ok := k.byID[id]
	if !ok {
		return "", fmt.Errorf("sealed under key %s, which neither TOLLGATE_ENCRYPTION_KEY (key %s) nor TOLLGATE_ENCRYPTION_KEY_OLD holds", id, k.current.id)
	}
	ct, err := base64.RawURLEncoding.DecodeString(sealed[len(prefix)+1+len(id)+1:])
	if err != nil {
		return "", errors.New("a sealed value's ciphertext is not base64")
	}
	pt, err := kk.aead.Open(nil, nil, ct, []byte(what))
	if err != nil {
		return "", fmt.Errorf("a value sealed under key %s does not open: altered, or not %s's", id, what)
	}
	return string(pt), nil
}

// IDOf is the id of the key that sealed a value.
func IDOf(sealed string) (string, error) {
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 || parts[0] != prefix || len(parts[1]) != 8 {
		return "", errors.New("not a sealed value (tgs1.<key id>.<ciphertext>)")
	}
	return parts[1], nil
}
