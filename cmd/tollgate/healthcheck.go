package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/tollgate-billing/tollgate/workflows"
)

// pollerFresh is how recently a worker must have polled the purchase task queue for the
// worker's health check to pass: the SDK polls continuously, so a live worker is seconds old.
const pollerFresh = 2 * time.Minute

// runHealthcheck is the container health check (the image has no curl): the API's /readyz, or
// with --worker, the worker's dependencies and a worker polling the purchase task queue.
func runHealthcheck(ctx context.Context, args []string, e env) error {
	var worker bool
	var timeout time.Duration
	var url string
	c, err := parseServerFlags("healthcheck", "Exit 0 when this container's Tollgate process is ready: the API's /readyz (at TOLLGATE_ADDR, "+
		"or --url) answers 200; with --worker, Postgres and Temporal answer and a worker polls the purchase task queue.", args, e,
		func(c *config, fs *flag.FlagSet, e env) {
			strFlag(fs, e, &c.Addr, "addr", "TOLLGATE_ADDR", "127.0.0.1:8080", "API listen address whose /readyz is checked")
			fs.StringVar(&url, "url", "", "check this URL instead of http://<addr>/readyz")
			fs.BoolVar(&worker, "worker", false, "check the worker: Postgres, Temporal, and a poller on the purchase task queue")
			fs.DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
		})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if worker {
		return checkWorker(ctx, c, e)
	}
	if url == "" {
		url = "http://" + loopbackAddr(c.Addr) + "/readyz"
	}
	return checkReady(ctx, url, e)
}

// loopbackAddr is addr as a client on the same host dials it: a wildcard host is loopback.
func loopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func checkReady(ctx context.Context, url string, e env) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("health check URL %q: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s answered %d %s", url, resp.StatusCode, body)
	}
	fmt.Fprintf(e.stdout, "ready: %s\n", body)
	return nil
}

// checkWorker opens what the worker opens and asks Temporal whether a worker polled the
// purchase task queue lately.
func checkWorker(ctx context.Context, c config, e env) error {
	d, err := openDeps(ctx, c, c.logger(env{getenv: e.getenv, stdout: io.Discard, stderr: io.Discard}))
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	defer d.Close()
	resp, err := d.temporal.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
		Namespace: c.TemporalNamespace, TaskQueue: &taskqueuepb.TaskQueue{Name: workflows.TaskQueue},
		TaskQueueType: enumspb.TASK_QUEUE_TYPE_WORKFLOW})
	if err != nil {
		return fmt.Errorf("not ready: describe task queue %s: %w", workflows.TaskQueue, err)
	}
	for _, p := range resp.GetPollers() {
		if time.Since(p.GetLastAccessTime().AsTime()) < pollerFresh {
			fmt.Fprintf(e.stdout, "ready: postgres up, temporal up, worker %s polling %s\n", p.GetIdentity(), workflows.TaskQueue)
			return nil
		}
	}
	return fmt.Errorf("not ready: no worker has polled task queue %s in the last %s", workflows.TaskQueue, pollerFresh)
}
