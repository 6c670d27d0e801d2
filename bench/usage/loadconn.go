package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// loadConn is one kept-alive HTTP/1.1 connection of the load generator. It writes each request
// by hand and reads the answer with http.ReadResponse, as wrk does, instead of going through
// http.Client: the client's transport goroutines and per-request allocations cost about a
// third of the Go CPU of a small request, and on a 2-core box whatever the load generator burns
// is taken from the server it measures.
type loadConn struct {
	addr, key string
	conn      net.Conn
	r         *bufio.Reader
	w         *bufio.Writer
	// body holds the last answer; reused, so a 250 kB bulk answer is not a fresh, growing
	// allocation per call (the load generator's CPU is taken from the server it measures)
	body bytes.Buffer
}

func newLoadConn(addr, key string) *loadConn { return &loadConn{addr: addr, key: key} }

// post sends one POST and returns the status and body (valid until the next call); a broken
// connection is redialled on the next call.
func (c *loadConn) post(path string, body []byte) (int, []byte, error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, nil, err
		}
		c.conn, c.r, c.w = conn, bufio.NewReaderSize(conn, 64<<10), bufio.NewWriterSize(conn, 16<<10)
	}
	status, b, err := c.roundTrip(path, body)
	if err != nil {
		c.conn.Close()
		c.conn = nil
	}
	return status, b, err
}

// send posts one request; an answer other than 2xx is an error that quotes it.
func (c *loadConn) send(path string, body []byte) error {
	status, b, err := c.post(path, body)
	if err == nil && status/100 != 2 {
		err = fmt.Errorf("%s: %d %s", path, status, b)
	}
	return err
}

func (c *loadConn) roundTrip(path string, body []byte) (int, []byte, error) {
	_ = c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(c.w, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nX-API-KEY: %s\r\nContent-Length: %s\r\n\r\n",
		path, c.addr, c.key, strconv.Itoa(len(body)))
	c.w.Write(body)
	if err := c.w.Flush(); err != nil {
		return 0, nil, err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return 0, nil, err
	}
	c.body.Reset()
	_, err = c.body.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, nil, err
	}
	b := c.body.Bytes()
	if resp.Close {
		return resp.StatusCode, b, io.ErrUnexpectedEOF // the server will close: start again next time
	}
	return resp.StatusCode, b, nil
}

func (c *loadConn) close() {
	if c.conn != nil {
		c.conn.Close()
	}
}
