package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// purchasesTTL is how long a count of purchases by status is served before it is read again:
// a scrape every few seconds costs one GROUP BY every 15 s at most.
const purchasesTTL = 15 * time.Second

// WatchPostgres adds the pool's statistics and the purchases by status of the database behind
// pool to the registry; the first pool of the process is the one watched (tollgate dev runs the
// API and the worker on one).
func WatchPostgres(pool *pgxpool.Pool) {
	watchOnce.Do(func() { Registry.MustRegister(&postgresCollector{pool: pool}) })
}

var watchOnce sync.Once

var (
	purchasesDesc = prometheus.NewDesc("tollgate_purchases", "Purchases by status and mode (read from Postgres, at most every 15 s).",
		[]string{"status", "mode"}, nil)
	poolAcquired = prometheus.NewDesc("tollgate_pgx_pool_acquired_conns", "Connections of the pool in use.", nil, nil)
	poolIdle     = prometheus.NewDesc("tollgate_pgx_pool_idle_conns", "Idle connections of the pool.", nil, nil)
	poolMax      = prometheus.NewDesc("tollgate_pgx_pool_max_conns", "Size limit of the pool.", nil, nil)
	poolWaits    = prometheus.NewDesc("tollgate_pgx_pool_acquire_waits_total", "Acquires that waited for a connection.", nil, nil)
	poolWaitTime = prometheus.NewDesc("tollgate_pgx_pool_acquire_wait_seconds_total", "Time spent waiting for a connection.", nil, nil)
)

type postgresCollector struct {
	pool *pgxpool.Pool

	mu     sync.Mutex
	readAt time.Time
	counts []statusCount
}

type statusCount struct {
	status, mode string
	n            float64
}

func (c *postgresCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{purchasesDesc, poolAcquired, poolIdle, poolMax, poolWaits, poolWaitTime} {
		ch <- d
	}
}

func (c *postgresCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolAcquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaitTime, prometheus.CounterValue, s.AcquireDuration().Seconds())
	for _, p := range c.purchases() {
		ch <- prometheus.MustNewConstMetric(purchasesDesc, prometheus.GaugeValue, p.n, p.status, p.mode)
	}
}

// purchases is the last count, read again once it is older than purchasesTTL; a failed read
// keeps the last one (the scrape still answers while Postgres is away).
func (c *postgresCollector) purchases() []statusCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.readAt) < purchasesTTL {
		return c.counts
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := c.pool.Query(ctx, `SELECT status, CASE WHEN sandbox THEN 'sandbox' ELSE 'live' END, count(*)
		FROM purchases GROUP BY 1, 2`)
	if err != nil {
		return c.counts
	}
	defer rows.Close()
	var out []statusCount
	for rows.Next() {
		var s statusCount
		var n int64
		if err := rows.Scan(&s.status, &s.mode, &n); err != nil {
			return c.counts
		}
		s.n = float64(n)
		out = append(out, s)
	}
	if rows.Err() == nil {
		c.counts, c.readAt = out, time.Now()
	}
	return c.counts
}
