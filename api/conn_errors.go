package api

import (
	"errors"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// isConnError recognises a database that is restarting or unreachable, so clients get 503 with
// Retry-After instead of a 500.
func isConnError(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, class 08 connection
		return pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03" || pg.Code[:2] == "08"
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		pgconn.SafeToRetry(err)
}
