package api

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/tollgate-billing/tollgate/store"
)

// API keys are looked up on every request; on the usage hot path that lookup was a second
// database round trip beside the one that does the work. Known keys are remembered for a few
// seconds, so a revoked key keeps working for at most keyCacheTTL. Unknown keys are never
// remembered: each wrong key still costs its own lookup.
const (
	keyCacheTTL = 5 * time.Second
	keyCacheMax = 10_000
)

// keyCache belongs to one Server, so it answers for that server's store alone and goes with it.
// Keys are held by their SHA-256, not in clear.
type keyCache struct {
	mu sync.RWMutex
	m  map[[sha256.Size]byte]keyCacheEntry
}

type keyCacheEntry struct {
	key     store.APIKey
	expires time.Time
}

// authenticate is store.Authenticate behind the short cache.
func (s *Server) authenticate(ctx context.Context, key string) (store.APIKey, error) {
	hash := sha256.Sum256([]byte(key))
	now := time.Now()
	c := &s.keys
	c.mu.RLock()
	e, ok := c.m[hash]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.key, nil
	}
	k, err := s.store.Authenticate(ctx, key)
	if err != nil {
		return k, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= keyCacheMax {
		// crude but bounded; a busy key is back on its next request
		c.m = make(map[[sha256.Size]byte]keyCacheEntry)
	}
	c.m[hash] = keyCacheEntry{key: k, expires: now.Add(keyCacheTTL)}
	c.mu.Unlock()
	return k, nil
}
