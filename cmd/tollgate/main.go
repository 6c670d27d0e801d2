// Command tollgate is the one binary: the API server, the Temporal worker, migrations, the MCP
// stdio server and `dev`, which runs everything on a laptop.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tollgate:", err)
			os.Exit(1)
		}
	}
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, env env) error
}

// env is what a subcommand may touch of the outside world.
type env struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

func commands() []command {
	return []command{
		{"dev", "run everything locally: Postgres, Temporal + UI, worker and API", runDev},
		{"api", "run the API server (REST, MCP at /mcp, hosted pages)", runAPI},
		{"worker", "run the Temporal worker for purchase workflows", runWorker},
		{"migrate", "apply database migrations", runMigrate},
		{"merchants", "onboard merchants: create, list, show, update; set-stripe, remove-stripe, reencrypt", runMerchants},
		{"keys", "a merchant's API keys: create, list, revoke, rotate", runKeys},
		{"mcp", "serve the MCP tools over stdio (for desktop assistants)", runMCP},
		{"healthcheck", "exit 0 when the API (or, with --worker, the worker) is ready; for container health checks", runHealthcheck},
		{"listen", "forward the merchant's sandbox events, signed, to a local URL (like `stripe listen`)", runListen},
		{"reconcile", "reconcile the payment processors' payments and refunds with the ledger now", runReconcile},
		{"version", "print the version", runVersion},
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], e)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Tollgate — billing engine for APIs, apps, AI agents and MCP servers.")
	fmt.Fprintln(w, "\nUsage: tollgate <command> [flags]   (tollgate <command> --help for its flags)\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
}

func runVersion(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("version", "print the version", e)
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "tollgate", version)
	return nil
}

// newFlagSet makes a flag set whose --help prints to stdout and returns flag.ErrHelp.
func newFlagSet(name, summary string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fs.SetOutput(e.stdout)
		fmt.Fprintf(e.stdout, "Usage: tollgate %s [flags]\n\n%s\n\nFlags (each also read from the environment variable shown):\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}
