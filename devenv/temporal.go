package devenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// Ports `tollgate dev` uses unless told otherwise: the same as `temporal server start-dev`, so
// the temporal CLI and SDK defaults find the server without flags.
const (
	DefaultTemporalPort   = 7233
	DefaultTemporalUIPort = 8233
)

const (
	// clusterName and clusterID are written into the SQLite file on first start. The ID must be
	// a UUID: the server replaces anything else with a random one, which then sticks.
	clusterName = "active"
	clusterID   = "6f0f3f8e-7d0c-4f6a-9b1e-3c2d5a4b6e71"

	// temporalDBFile is the SQLite file inside TemporalConfig.DataDir.
	temporalDBFile = "temporal.db"
)

// TemporalConfig says where the embedded Temporal server keeps its data and listens.
type TemporalConfig struct {
	// DataDir holds temporal.db; empty keeps everything in memory (tests).
	DataDir string
	// Host is the loopback address every service binds to; empty means 127.0.0.1.
	Host string
	// FrontendPort is the gRPC port clients dial; 0 picks a free one.
	FrontendPort int
	// UIPort serves the Temporal UI; 0 picks a free one, -1 runs no UI.
	UIPort int
	// Namespace is created on start with SearchAttributes registered; empty means "default".
	Namespace string
	// Logger receives the server's warnings and errors; nil discards them.
	Logger *slog.Logger
}

// Temporal is a running embedded Temporal server (and optionally its UI).
type Temporal struct {
	server    temporal.Server
	ui        *temporalUI
	host      string
	port      int
	uiPort    int
	namespace string
	logLevel  *slog.LevelVar
	stopOnce  sync.Once
}

// StartTemporal starts a single-process Temporal server on SQLite, registers the namespace with
// our search attributes and, unless UIPort is -1, the Temporal UI. It returns once both answer.
func StartTemporal(ctx context.Context, cfg TemporalConfig) (*Temporal, error) {
	cfg = cfg.withDefaults()
	ports, err := cfg.ports()
	if err != nil {
		return nil, err
	}
	sqlConf, err := cfg.prepareSQLite()
	if err != nil {
		return nil, err
	}
	logLevel := new(slog.LevelVar)
	logLevel.Set(slog.LevelWarn)
	opts, err := cfg.serverOptions(sqlConf, ports, newServerLogger(cfg.Logger, logLevel))
	if err != nil {
		return nil, err
	}
	srv, err := temporal.NewServer(opts...)
	if err != nil {
		return nil, fmt.Errorf("temporal: build server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("temporal: start server: %w", err)
	}
	t := &Temporal{server: srv, host: cfg.Host, port: ports.frontend, uiPort: -1, namespace: cfg.Namespace, logLevel: logLevel}
	if err := t.ensureSearchAttributes(ctx, cfg.Logger); err != nil {
		t.Stop()
		return nil, err
	}
	if cfg.UIPort >= 0 {
		t.uiPort = ports.ui
		if t.ui, err = startUI(ctx, cfg, ports); err != nil {
			t.Stop()
			return nil, err
		}
	}
	return t, nil
}

// FrontendAddress is the host:port SDK clients and workers dial.
func (t *Temporal) FrontendAddress() string {
	return net.JoinHostPort(t.host, strconv.Itoa(t.port))
}

// UIAddress is the Temporal UI's base URL, or "" when it was not started.
func (t *Temporal) UIAddress() string {
	if t.ui == nil {
		return ""
	}
	return "http://" + net.JoinHostPort(t.host, strconv.Itoa(t.uiPort))
}

// Namespace is the namespace created on start.
func (t *Temporal) Namespace() string { return t.namespace }

// Stop shuts the UI and the server down; it is safe to call more than once.
func (t *Temporal) Stop() {
	t.stopOnce.Do(func() {
		t.logLevel.Set(slog.LevelError)
		if t.ui != nil {
			t.ui.stop()
		}
		_ = t.server.Stop()
	})
}

func (cfg TemporalConfig) withDefaults() TemporalConfig {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// temporalPorts are the ports of one server: the two a person sees plus the internal services.
type temporalPorts struct {
	frontend, frontendHTTP, history, matching, worker, ui int
}

// ports checks the requested ports and picks free ones for the rest. The chosen ports are held
// open together while picking, so two services never get the same one.
func (cfg TemporalConfig) ports() (temporalPorts, error) {
	var p temporalPorts
	wanted := []struct {
		port *int
		ask  int
		name string
		flag string
	}{
		{&p.frontend, cfg.FrontendPort, "temporal frontend", "--temporal-port"},
		{&p.ui, cfg.UIPort, "temporal UI", "--ui-port"},
		{&p.frontendHTTP, 0, "", ""},
		{&p.history, 0, "", ""},
		{&p.matching, 0, "", ""},
		{&p.worker, 0, "", ""},
	}
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for _, w := range wanted {
		switch {
		case w.ask < 0: // no UI
			*w.port = -1
		case w.ask > 0:
			if err := CheckPortFree(w.name, net.JoinHostPort(cfg.Host, strconv.Itoa(w.ask)), w.flag); err != nil {
				return p, err
			}
			*w.port = w.ask
		default:
			l, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, "0"))
			if err != nil {
				return p, fmt.Errorf("temporal: pick a free port on %s: %w", cfg.Host, err)
			}
			held = append(held, l)
			*w.port = l.Addr().(*net.TCPAddr).Port
		}
	}
	return p, nil
}

// prepareSQLite returns the persistence config, creating the schema when the file is new and
// the namespace when it is missing.
func (cfg TemporalConfig) prepareSQLite() (*config.SQL, error) {
	conf := &config.SQL{PluginName: sqliteplugin.PluginName}
	if cfg.DataDir == "" {
		// A random name keeps two in-memory servers in one process (tests) apart.
		conf.DatabaseName = "tollgate-" + strconv.Itoa(rand.IntN(1<<30))
		conf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("temporal: data dir: %w", err)
		}
		conf.DatabaseName = filepath.Join(cfg.DataDir, temporalDBFile)
		// WAL lets readers run beside the one writer (measured ~1.7x faster here); with WAL,
		// synchronous=normal stays crash-safe for the database and drops an fsync per commit.
		conf.ConnectAttributes = map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "normal"}
		if _, err := os.Stat(conf.DatabaseName); errors.Is(err, os.ErrNotExist) {
			if err := sqliteschema.SetupSchema(conf); err != nil {
				// Leave no half-made file behind: the next start would take it as set up.
				for _, suffix := range []string{"", "-wal", "-shm"} {
					_ = os.Remove(conf.DatabaseName + suffix)
				}
				return nil, fmt.Errorf("temporal: set up schema in %s: %w", conf.DatabaseName, err)
			}
		} else if err != nil {
			return nil, fmt.Errorf("temporal: %w", err)
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, cfg.Namespace, false, SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("temporal: namespace config: %w", err)
	}
	// A no-op when the namespace exists; ensureSearchAttributes covers attributes added later.
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return nil, fmt.Errorf("temporal: create namespace %q: %w", cfg.Namespace, err)
	}
	return conf, nil
}

func (cfg TemporalConfig) serverOptions(sqlConf *config.SQL, p temporalPorts, logger serverLogger) ([]temporal.ServerOption, error) {
	conf := cfg.serverConfig(sqlConf, p)
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("temporal: authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("temporal: claim mapper: %w", err)
	}
	host := func(port int) static.Hosts {
		return static.SingleLocalHost(net.JoinHostPort(cfg.Host, strconv.Itoa(port)))
	}
	return []temporal.ServerOption{
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		// Static hosts skip ringpop's gossip: nothing to join, so the server is up in ~0.5 s.
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: host(p.frontend),
			primitives.HistoryService:  host(p.history),
			primitives.MatchingService: host(p.matching),
			primitives.WorkerService:   host(p.worker),
		}),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(devDynamicConfig()),
	}, nil
}

// devDynamicConfig tunes the server for one small machine, as `temporal server start-dev` does.
func devDynamicConfig() dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		// One partition per task queue: with the default four, a poller can wait on an empty
		// partition while a task sits in another, which showed up as multi-second p99 stalls.
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
		// start-dev's values: more cached workflows and room for the UI's list refreshes.
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8096,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
	}
}

func (cfg TemporalConfig) serverConfig(sqlConf *config.SQL, p temporalPorts) *config.Config {
	frontend := net.JoinHostPort(cfg.Host, strconv.Itoa(p.frontend))
	service := func(port int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: port, BindOnIP: cfg.Host}}
	}
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = cfg.Host
	conf.Persistence.DefaultStore = sqliteplugin.PluginName
	conf.Persistence.VisibilityStore = sqliteplugin.PluginName
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{sqliteplugin.PluginName: {SQL: sqlConf}}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontend,
				HTTPAddress:            net.JoinHostPort(cfg.Host, strconv.Itoa(p.frontendHTTP)),
				ClusterID:              clusterID,
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	frontendService := service(p.frontend)
	// The frontend's HTTP API serves Nexus callbacks; without it the server warns on every start.
	frontendService.RPC.HTTPPort = p.frontendHTTP
	conf.Services = map[string]config.Service{
		"frontend": frontendService,
		"history":  service(p.history),
		"matching": service(p.matching),
		"worker":   service(p.worker),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	// The server's own system workers (schedules, batch jobs) dial the frontend through this.
	conf.PublicClient.HostPort = frontend
	return &conf
}
