package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/tollgate-billing/tollgate/internal/hostguard"
	"github.com/tollgate-billing/tollgate/internal/telemetry"
	"github.com/tollgate-billing/tollgate/mcp"
)

// runMCP serves the MCP tools over stdio for a desktop assistant. Every tool call goes to a
// running Tollgate API with the merchant's key, so the assistant sees exactly what that key sees.
// stdout is the protocol channel: everything for a person goes to stderr.
func runMCP(ctx context.Context, args []string, e env) error {
	var c config
	fs := newFlagSet("mcp", "Serve Tollgate's MCP tools over stdio (for Claude Desktop, VS Code and other assistants).\n"+
		"Tool calls go to the Tollgate API at --api-url with the merchant's API key.", e)
	c.bindAPIClient(fs, e, "the merchant's API `key` (sk_sandbox_… or sk_live_…)")
	c.bindLog(fs, e, telemetry.LogText)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.checkLog(); err != nil {
		return err
	}
	if c.APIKey == "" {
		return errors.New("no API key: set TOLLGATE_API_KEY or --api-key (the merchant's sk_sandbox_… or sk_live_… key)")
	}
	if err := checkAPIURL(c.APIURL); err != nil {
		return err
	}
	log := c.logger(e)
	caller := mcp.HTTP{BaseURL: strings.TrimRight(c.APIURL, "/"), APIKey: c.APIKey}
	if err := checkAPI(ctx, caller); err != nil {
		var refused *keyRefused
		if errors.As(err, &refused) {
			return err
		}
		// The API may start after the assistant does; tools report the failure per call.
		log.Warn("Tollgate API not reachable yet; tool calls will fail until it is", "url", c.APIURL, "err", err)
	}
	log.Info("MCP server on stdio", "api", c.APIURL)
	err := mcp.New(mcp.Config{Caller: caller, Logger: log, Version: version}).Run(ctx, &sdk.StdioTransport{})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// checkAPIURL accepts https, and plain http only to this machine: the relay sends the merchant's
// key with every call, and plain http to another host would carry it across the network in clear.
func checkAPIURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--api-url must be an http(s) URL, not %q", raw)
	}
	if u.Scheme == "http" && !hostguard.IsLoopback(u.Hostname()) {
		return fmt.Errorf("--api-url %s is plain http to another host, which would send the API key unencrypted: use https (plain http is accepted only for localhost and 127.0.0.1)", u.Redacted())
	}
	return nil
}

type keyRefused struct{ url string }

func (k *keyRefused) Error() string {
	return fmt.Sprintf("the Tollgate API at %s refused the API key (401): check TOLLGATE_API_KEY", k.url)
}

// checkAPI makes one cheap authenticated read, so a wrong key fails at start with a clear
// message instead of on every tool call.
func checkAPI(ctx context.Context, caller mcp.HTTP) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	res, err := caller.Call(ctx, mcp.Request{Method: http.MethodGet, Path: "/v1/sdk/merchant"})
	if err != nil {
		return err
	}
	if res.Status == http.StatusUnauthorized {
		return &keyRefused{url: caller.BaseURL}
	}
	return nil
}
