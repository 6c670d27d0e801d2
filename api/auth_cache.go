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

type keyCacheID struct {
	st   *store.Store
	hash [32]byte
}

type keyCacheEntry struct {
	key     store.APIKey
	expires time.Time
}

var keyCache = struct {
	sync.RWMutex
	m map[keyCacheID]keyCacheEntry
}{m: map[keyCacheID]keyCacheEntry{}}

// authenticate is store.Authenticate behind the short cache.
func (s *Server) authenticate(ctx context.Context, key string) (store.APIKey, error) {
	id := keyCacheID{st: s.store, hash: sha256.Sum256([]byte(key))}
	now := time.Now()
	keyCache.RLock()
	e, ok := keyCache.m[id]
	keyCache.RUnlock()
	if ok && now.Before(e.expires) {
		return e.key, nil
	}
	k, err := s.store.Authenticate(ctx, key)
	if err != nil {
		return k, err
	}
	keyCache.Lock()
	if len(keyCache.m) >= keyCacheMax {
		clear(keyCache.m) // crude but bounded; a busy key is back on its next request
	}
	keyCache.m[id] = keyCacheEntry{key: k, expires: now.Add(keyCacheTTL)}
	keyCache.Unlock()
	return k, nil
}
