package main

import (
	"github.com/tollgate-billing/tollgate/api"
	"github.com/tollgate-billing/tollgate/mcp"
)

// mountMCP builds the API with the MCP endpoint at /mcp, which calls the same API in-process.
func mountMCP(d *deps, cfg api.Config) *api.Server {
	return mcp.NewAPI(cfg, mcp.HTTPOptions{Logger: d.log, Version: version})
}
