package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/api"
)

// originHeader carries the public origin of an MCP request (scheme://host) from the /mcp
// handler to the in-process caller, so links the API builds from the request (checkout, portal)
// point where the assistant's client reached this server. The /mcp handler always overwrites
// it, so a client cannot choose it.
const originHeader = "X-Tollgate-Mcp-Origin"

// InProcess calls the API's http.Handler in the same process: no network, the same handlers,
// auth and error shape as a REST client gets.
type InProcess struct {
	Handler http.Handler
	// APIKey is used when the MCP request carries none (in-memory transports in tests).
	APIKey string
	// BaseURL is the origin used when the MCP request carries none.
	BaseURL string
}

func (c InProcess) Call(ctx context.Context, req Request) (Response, error) {
	target := req.Path
	if len(req.Query) > 0 {
		target += "?" + req.Query.Encode()
	}
	body, err := encodeBody(req.Body)
	if err != nil {
		return Response{}, err
	}
	r, err := http.NewRequestWithContext(ctx, req.Method, target, body)
	if err != nil {
		return Response{}, err
	}
	key := c.APIKey
	origin := c.BaseURL
	if req.Header != nil {
		if k := api.APIKeyFrom(&http.Request{Header: req.Header}); k != "" {
			key = k
		}
		if o := req.Header.Get(originHeader); o != "" {
			origin = o
		}
	}
	setHeaders(r, key, req)
	r.Host = "localhost"
	if u, err := url.Parse(origin); err == nil && u.Host != "" {
		r.Host = u.Host
		if u.Scheme == "https" {
			r.Header.Set("X-Forwarded-Proto", "https")
		}
	}
	r.RemoteAddr = "127.0.0.1:0"
	rec := &recorder{header: http.Header{}}
	c.Handler.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return Response{Status: rec.status, Body: rec.body.Bytes()}, nil
}

// HTTP calls a running Tollgate API over the network (`tollgate mcp` on a desktop).
type HTTP struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	APIKey  string
	Client  *http.Client // nil: a client with a 30 s timeout
}

func (c HTTP) Call(ctx context.Context, req Request) (Response, error) {
	target := strings.TrimRight(c.BaseURL, "/") + req.Path
	if len(req.Query) > 0 {
		target += "?" + req.Query.Encode()
	}
	body, err := encodeBody(req.Body)
	if err != nil {
		return Response{}, err
	}
	r, err := http.NewRequestWithContext(ctx, req.Method, target, body)
	if err != nil {
		return Response{}, fmt.Errorf("bad Tollgate API URL %q: %v", c.BaseURL, err)
	}
	setHeaders(r, c.APIKey, req)
	client := http.Client{Timeout: 30 * time.Second}
	if c.Client != nil {
		client = *c.Client
	}
	client.CheckRedirect = keyStaysOnHost
	res, err := client.Do(r)
	if err != nil {
		return Response{}, fmt.Errorf("could not reach the Tollgate API at %s (is `tollgate api` or `tollgate dev` running?): %v", c.BaseURL, unwrapURLError(err))
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return Response{}, fmt.Errorf("reading the Tollgate API's answer: %v", err)
	}
	return Response{Status: res.StatusCode, Body: b}, nil
}

// keyStaysOnHost follows a redirect only to the same scheme and host: Go's client would copy
// the X-API-KEY header to any host a redirect names (it strips only Authorization and cookies).
func keyStaysOnHost(req *http.Request, via []*http.Request) error {
	from := via[0].URL
	if req.URL.Host != from.Host || req.URL.Scheme != from.Scheme {
		return fmt.Errorf("refused a redirect from %s://%s to %s://%s: the API key goes only to the configured API URL",
			from.Scheme, from.Host, req.URL.Scheme, req.URL.Host)
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func encodeBody(v any) (io.Reader, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode request: %v", err)
	}
	return bytes.NewReader(b), nil
}

func setHeaders(r *http.Request, key string, req Request) {
	if key != "" {
		r.Header.Set("X-API-KEY", key)
	}
	r.Header.Set("Accept", "application/json")
	r.Header.Set("User-Agent", "tollgate-mcp")
	if req.Body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.IdempotencyKey != "" {
		r.Header.Set("Idempotency-Key", req.IdempotencyKey)
	}
}

// recorder is the in-memory ResponseWriter of an in-process call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) Flush() {}
