package main

import (
	"net/http"

	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/mcp"
)

// mountMCP builds the API with the MCP endpoint at /mcp, which calls the same API in-process.
func mountMCP(d *deps, cfg api.Config) http.Handler {
	return mcp.NewAPI(cfg, mcp.HTTPOptions{Logger: d.log, Version: version})
}
