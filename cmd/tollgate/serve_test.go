package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/devenv"
	"github.com/tollgate-billing/tollgate/internal/httpserver"
	"github.com/tollgate-billing/tollgate/internal/testenv"
)

// TestServerCutsOffSlowAndIdleClients: a client that trickles its headers, sends headers and then
// trickles a bulk usage body (slowloris), or holds a kept-alive connection idle loses the
// connection once the server's deadline for that phase passes. The deadlines are shortened here;
// the bound each case waits is far above them, and is the only time in the test.
func TestServerCutsOffSlowAndIdleClients(t *testing.T) {
	st := testenv.Postgres(t)
	_, key := testenv.Merchant(t, st, "Acme")
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- serveHTTP(ctx, addr, api.New(api.Config{Store: st}),
			httpserver.Timeouts{ReadHeader: time.Second, Read: 2 * time.Second, Write: 5 * time.Second, Idle: time.Second})
	}()
	t.Cleanup(func() { cancel(); <-errc })
	if err := waitHTTP(ctx, "http://"+addr+"/healthz", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	const bound = 30 * time.Second
	bulkHead := "POST /v1/usages/bulk HTTP/1.1\r\nHost: " + addr + "\r\nX-API-KEY: " + key +
		"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
	for _, c := range []struct {
		name    string
		opening string // sent at once
		trickle string // then one byte every 50 ms, over and over
	}{
		{"headers trickled", "GET /v1/customers HTTP/1.1\r\n", "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"},
		{"body trickled after its headers", bulkHead, `{"events":[{"customerRef":"cus_x","productRef":"prd_x","units":1},`},
		{"idle after a request", "GET /healthz HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			closed := make(chan error, 1)
			go func() { // the server's side ends when a read here sees EOF or a reset
				_, err := io.Copy(io.Discard, bufio.NewReader(conn))
				closed <- err
			}()
			if _, err := io.WriteString(conn, c.opening); err != nil {
				t.Fatal(err)
			}
			give := time.NewTimer(bound)
			defer give.Stop()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case err := <-closed:
					if err != nil && !errors.Is(err, net.ErrClosed) {
						t.Logf("connection ended: %v", err)
					}
					return
				case <-give.C:
					t.Fatalf("the server still holds the connection after %s", bound)
				case <-tick.C:
					if c.trickle != "" {
						_, _ = conn.Write([]byte{c.trickle[i%len(c.trickle)]}) // fails once the server has gone
					}
				}
			}
		})
	}
}
