package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/devenv"
	"github.com/tollgate-billing/tollgate/internal/httpserver"
	"github.com/tollgate-billing/tollgate/internal/telemetry"
	"github.com/tollgate-billing/tollgate/store"
)

func runDev(ctx context.Context, args []string, e env) error {
	var c config
	fs := newFlagSet("dev", "Run everything on this machine: a private Postgres cluster and an embedded Temporal\n"+
		"server with its UI (data under --data-dir, kept between runs), the worker and the API.", e)
	strFlag(fs, e, &c.DataDir, "data-dir", "TOLLGATE_DATA_DIR", ".tollgate", "where dev keeps Postgres, Temporal and dev.env")
	intFlag(fs, e, &c.PGPort, "pg-port", "TOLLGATE_PG_PORT", 54329, "port of the private Postgres cluster (127.0.0.1)")
	intFlag(fs, e, &c.TemporalPort, "temporal-port", "TOLLGATE_TEMPORAL_PORT", devenv.DefaultTemporalPort, "Temporal frontend port (127.0.0.1)")
	intFlag(fs, e, &c.UIPort, "ui-port", "TOLLGATE_UI_PORT", devenv.DefaultTemporalUIPort, "Temporal UI port (127.0.0.1)")
	c.bindServer(fs, e)
	c.bindPayments(fs, e)
	c.bindReconcile(fs, e)
	c.bindWebhooks(fs, e)
	c.bindLog(fs, e, telemetry.LogText)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.checkLog(); err != nil {
		return err
	}
	if err := c.checkCardEntry(); err != nil {
		return err
	}
	if err := c.checkAdminToken(); err != nil {
		return err
	}
	log := c.logger(e)
	started := time.Now()

	// Check every port first, so a clash is reported by name before anything starts.
	for _, p := range []struct{ name, addr, flag string }{
		{"API", c.Addr, "--addr"},
		{"postgres", fmt.Sprintf("127.0.0.1:%d", c.PGPort), "--pg-port"},
		{"temporal frontend", fmt.Sprintf("127.0.0.1:%d", c.TemporalPort), "--temporal-port"},
		{"temporal UI", fmt.Sprintf("127.0.0.1:%d", c.UIPort), "--ui-port"},
	} {
		if err := devenv.CheckPortFree(p.name, p.addr, p.flag); err != nil {
			return err
		}
	}
	dataDir, err := filepath.Abs(c.DataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}

	fmt.Fprintln(e.stdout, "starting postgres…")
	pg, err := devenv.StartPostgres(ctx, devenv.PostgresConfig{Dir: filepath.Join(dataDir, "postgres"), Port: c.PGPort, Logger: log})
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer func() {
		fmt.Fprintln(e.stdout, "stopping postgres…")
		if err := pg.Stop(); err != nil {
			log.Error("stop postgres", "err", err)
		}
	}()
	c.DatabaseURL = pg.URL()
	st, err := store.Open(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return err
	}
	st.Close()

	fmt.Fprintln(e.stdout, "starting temporal…")
	tmp, err := devenv.StartTemporal(ctx, devenv.TemporalConfig{DataDir: filepath.Join(dataDir, "temporal"),
		FrontendPort: c.TemporalPort, UIPort: c.UIPort, Logger: log})
	if err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	defer func() {
		fmt.Fprintln(e.stdout, "stopping temporal…")
		tmp.Stop()
	}()
	c.TemporalAddress, c.TemporalNamespace = tmp.FrontendAddress(), tmp.Namespace()

	d, err := openTraced(ctx, c, e, "tollgate-dev", log)
	if err != nil {
		return err
	}
	defer d.Close()
	stopWorker, err := startWorker(ctx, d)
	if err != nil {
		return err
	}
	defer stopWorker()

	key, err := devMerchant(ctx, d.store, dataDir)
	if err != nil {
		return err
	}
	envFile := filepath.Join(dataDir, "dev.env")
	if err := writeDevEnv(envFile, c, key); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- serveHTTP(ctx, c.Addr, newHandler(ctx, d), httpserver.Default) }()
	if err := waitHTTP(ctx, "http://"+c.Addr+"/healthz", 10*time.Second); err != nil {
		return err
	}
	printDevSummary(e, c, key, tmp.UIAddress(), envFile, time.Since(started))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(e.stdout, "\nshutting down…")
	return <-errc
}

// devMerchant creates the dev merchant once and reuses its key on later runs (the key is
// stored hashed in Postgres; dev.env keeps the plaintext for scripts on this laptop only).
func devMerchant(ctx context.Context, st *store.Store, dataDir string) (string, error) {
	prev := readEnvFile(filepath.Join(dataDir, "dev.env"))
	if key := prev["TOLLGATE_API_KEY"]; key != "" {
		if _, err := st.Authenticate(ctx, key); err == nil {
			return key, nil
		}
	}
	_, key, err := st.CreateMerchant(ctx, "Dev Merchant")
	return key, err
}

func writeDevEnv(path string, c config, key string) error {
	body := fmt.Sprintf("TOLLGATE_API_URL=%s\nTOLLGATE_API_KEY=%s\nDATABASE_URL=%s\nTEMPORAL_ADDRESS=%s\nTEMPORAL_NAMESPACE=%s\n",
		c.publicURL(), key, c.DatabaseURL, c.TemporalAddress, c.TemporalNamespace)
	return os.WriteFile(path, []byte(body), 0o600)
}

func readEnvFile(path string) map[string]string {
	out := map[string]string{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			out[k] = v
		}
	}
	return out
}

func printDevSummary(e env, c config, key, uiURL, envFile string, took time.Duration) {
	api := c.publicURL()
	fmt.Fprintf(e.stdout, `
Tollgate is running (ready in %.1fs). Ctrl-C stops everything.

  API          %s
  OpenAPI      %s/openapi.json
  MCP          %s/mcp   (header X-API-KEY)
  Temporal UI  %s
  Temporal     %s   (namespace %s)
  Postgres     %s
  API key      %s   (sandbox)
  env file     %s   (source it: set -a; . %s; set +a)

Try it:
  curl -s %s/v1/customers -H "X-API-KEY: %s"

`, took.Seconds(), api, api, api, uiURL, c.TemporalAddress, c.TemporalNamespace, c.DatabaseURL, key, envFile, envFile, api, key)
}
