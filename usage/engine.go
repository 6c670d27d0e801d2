package usage

import "github.com/jackc/pgx/v5/pgxpool"

// Engine records usage events and reads limits for every merchant of one database. Its cache
// of resolutions, its queues and its counters of paths live as long as it does: a process
// makes one and shares it.
type Engine struct {
	pool  *pgxpool.Pool
	cache cache
}

// New makes an Engine over pool.
func New(pool *pgxpool.Pool) *Engine { return &Engine{pool: pool} }
