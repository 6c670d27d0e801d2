package api

// KeyGeneration is how many invalidations the server's key cache has seen (tests wait on it).
func (s *Server) KeyGeneration() uint64 {
	s.keys.mu.RLock()
	defer s.keys.mu.RUnlock()
	return s.keys.gen
}

// KeyCached reports whether the key cache holds a key of this merchant and whether it listens.
func (s *Server) KeyCached(merchant string) (cached, listening bool) {
	s.keys.mu.RLock()
	defer s.keys.mu.RUnlock()
	for _, k := range s.keys.m {
		if k.MerchantRef == merchant {
			cached = true
		}
	}
	return cached, s.keys.listening
}
