package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/tollgate-billing/tollgate/store"
)

// API keys are looked up on every request; on the usage hot path that lookup was a second
// database round trip beside the one that does the work. So each server remembers the keys it
// has found valid — but only while it listens to Postgres's announcements of key changes
// (WatchKeys): a revoked key, or one made read-only, is forgotten by every replica as soon as
// the change commits, and an expiring key is checked against its expiry on every use. While the
// server is not listening (before WatchKeys, or while its connection is re-made) nothing is
// remembered and every request asks Postgres. Unknown keys are never remembered.
const keyCacheMax = 10_000

// keyCache belongs to one Server. Keys are held by their SHA-256, not in clear.
type keyCache struct {
	mu sync.RWMutex
	m  map[[sha256.Size]byte]store.APIKey
	// gen changes whenever something may have been invalidated; a lookup that started under an
	// older generation does not store its answer (it may predate a revocation).
	gen       uint64
	listening bool
	// per-key state that outlives invalidations: the rate limiter and the last-used stamp
	state map[[sha256.Size]byte]*keyState
}

type keyState struct {
	lim     *rate.Limiter
	touched atomic.Int64 // unix seconds of the last last_used_at write
}

// authenticate is store.Authenticate behind the cache.
func (s *Server) authenticate(ctx context.Context, key string) (store.APIKey, [sha256.Size]byte, error) {
	hash := sha256.Sum256([]byte(key))
	c := &s.keys
	c.mu.RLock()
	k, ok := c.m[hash]
	gen, listening := c.gen, c.listening
	c.mu.RUnlock()
	if ok && !k.Expired(time.Now()) {
		return k, hash, nil
	}
	k, err := s.store.Authenticate(ctx, key)
	if err != nil || !listening {
		return k, hash, err
	}
	c.mu.Lock()
	if c.gen == gen && c.listening {
		if c.m == nil || len(c.m) >= keyCacheMax {
			// crude but bounded; a busy key is back on its next request
			c.m = make(map[[sha256.Size]byte]store.APIKey)
		}
		c.m[hash] = k
	}
	c.mu.Unlock()
	return k, hash, nil
}

// forget drops one key (nil: all) and starts a new generation; listening says whether the
// cache may fill again.
func (c *keyCache) forget(hash []byte, listening bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.listening = listening
	if hash == nil || len(hash) != sha256.Size {
		c.m = nil
		return
	}
	delete(c.m, [sha256.Size]byte(hash))
}

// WatchKeys listens to Postgres for key changes until ctx ends, re-listening after a lost
// connection (with nothing remembered meanwhile). Run it once per server: the API commands do.
func (s *Server) WatchKeys(ctx context.Context) {
	defer s.keys.forget(nil, false)
	s.store.Listen(ctx, store.APIKeyChannel, store.Listener{
		Listening: func() {
			s.keys.forget(nil, true)
			s.log.Debug("API key changes: listening")
		},
		Notified: func(payload string) {
			if hash, err := hex.DecodeString(payload); err == nil {
				s.keys.forget(hash, true)
				s.log.Debug("API key changes: a key changed; this server asks Postgres for it again")
			}
		},
		Lost: func(err error) {
			s.keys.forget(nil, false)
			s.log.Warn("API key changes: listening failed; every request checks its key in Postgres until it is back", "err", err)
		},
	})
}

// stateOf is the per-key state of hash, made on first use.
func (s *Server) stateOf(hash [sha256.Size]byte) *keyState {
	c := &s.keys
	c.mu.RLock()
	st, ok := c.state[hash]
	c.mu.RUnlock()
	if ok {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok = c.state[hash]; ok {
		return st
	}
	if c.state == nil || len(c.state) >= keyCacheMax {
		c.state = make(map[[sha256.Size]byte]*keyState)
	}
	st = &keyState{lim: rate.NewLimiter(s.rateLimit.Rate, s.rateLimit.Burst)}
	c.state[hash] = st
	return st
}

// touchEvery is how often a key's last_used_at is written at most, per server.
const touchEvery = 60

// touch records the key's use in Postgres, at most once every touchEvery seconds per server,
// off the request's path.
func (s *Server) touch(st *keyState, hash [sha256.Size]byte) {
	now := time.Now().Unix()
	last := st.touched.Load()
	if now-last < touchEvery || !st.touched.CompareAndSwap(last, now) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.store.TouchAPIKey(ctx, hash[:]); err != nil {
			s.log.Debug("API key: recording its last use failed", "err", err)
		}
	}()
}
