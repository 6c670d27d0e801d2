package telemetry

import (
	"context"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/trace"
)

// PgxTracer is the tracer of Postgres queries when tracing is on (nil when off): a span per
// query, batch, copy and prepare (SQL text, never its arguments), only inside a trace — the
// background loops (group commit, pool statistics) start no traces of their own.
func PgxTracer() pgx.QueryTracer {
	if !Enabled() {
		return nil
	}
	return inTrace{otelpgx.NewTracer()}
}

// inTrace passes a pgx trace on only when its context already carries a span. A skipped start
// returns its context unchanged, so the matching end finds no span either and is skipped too.
type inTrace struct{ t *otelpgx.Tracer }

var (
	_ pgx.BatchTracer    = inTrace{}
	_ pgx.CopyFromTracer = inTrace{}
	_ pgx.PrepareTracer  = inTrace{}
)

func traced(ctx context.Context) bool { return trace.SpanFromContext(ctx).SpanContext().IsValid() }

func (i inTrace) TraceQueryStart(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if !traced(ctx) {
		return ctx
	}
	return i.t.TraceQueryStart(ctx, c, d)
}

func (i inTrace) TraceQueryEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryEndData) {
	if traced(ctx) {
		i.t.TraceQueryEnd(ctx, c, d)
	}
}

func (i inTrace) TraceBatchStart(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	if !traced(ctx) {
		return ctx
	}
	return i.t.TraceBatchStart(ctx, c, d)
}

func (i inTrace) TraceBatchQuery(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchQueryData) {
	if traced(ctx) {
		i.t.TraceBatchQuery(ctx, c, d)
	}
}

func (i inTrace) TraceBatchEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchEndData) {
	if traced(ctx) {
		i.t.TraceBatchEnd(ctx, c, d)
	}
}

func (i inTrace) TraceCopyFromStart(ctx context.Context, c *pgx.Conn, d pgx.TraceCopyFromStartData) context.Context {
	if !traced(ctx) {
		return ctx
	}
	return i.t.TraceCopyFromStart(ctx, c, d)
}

func (i inTrace) TraceCopyFromEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceCopyFromEndData) {
	if traced(ctx) {
		i.t.TraceCopyFromEnd(ctx, c, d)
	}
}

func (i inTrace) TracePrepareStart(ctx context.Context, c *pgx.Conn, d pgx.TracePrepareStartData) context.Context {
	if !traced(ctx) {
		return ctx
	}
	return i.t.TracePrepareStart(ctx, c, d)
}

func (i inTrace) TracePrepareEnd(ctx context.Context, c *pgx.Conn, d pgx.TracePrepareEndData) {
	if traced(ctx) {
		i.t.TracePrepareEnd(ctx, c, d)
	}
}
