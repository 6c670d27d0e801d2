package testenv

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Outage is a TCP proxy in front of a server that a test can take down and bring back: while
// down, every open connection is cut and new ones are refused, as when a database host is lost.
type Outage struct {
	target string
	ln     net.Listener
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
}

// OutageURL answers a copy of the postgres:// URL rawURL that reaches its server through a
// proxy the test can cut with Down and restore with Up.
func OutageURL(t testing.TB, rawURL string) (string, *Outage) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &Outage{target: u.Host, ln: ln, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { _ = ln.Close(); o.Down() })
	go o.serve()
	u.Host = ln.Addr().String()
	return u.String(), o
}

// Down cuts every connection through the proxy and refuses new ones until Up.
func (o *Outage) Down() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.down = true
	for c := range o.conns {
		_ = c.Close()
	}
	clear(o.conns)
}

// Up lets connections through again.
func (o *Outage) Up() {
	o.mu.Lock()
	o.down = false
	o.mu.Unlock()
}

func (o *Outage) serve() {
	for {
		in, err := o.ln.Accept()
		if err != nil {
			return
		}
		go o.pipe(in)
	}
}

func (o *Outage) pipe(in net.Conn) {
	out, err := net.Dial("tcp", o.target)
	if err != nil {
		_ = in.Close()
		return
	}
	if !o.track(in, out) {
		_ = in.Close()
		_ = out.Close()
		return
	}
	go func() { _, _ = io.Copy(out, in); _ = out.Close() }()
	_, _ = io.Copy(in, out)
	_ = in.Close()
}

// track registers a connection pair, or answers false while the server is down.
func (o *Outage) track(c ...net.Conn) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.down {
		return false
	}
	for _, x := range c {
		o.conns[x] = struct{}{}
	}
	return true
}
