package store

import (
	"context"
	"time"
)

// EventsChannel is where Postgres announces that events were written (migration 00271's
// trigger), when their transaction commits, with an empty payload: the webhook relay wakes on it.
const EventsChannel = "tollgate_events"

// Listener is what Listen calls.
type Listener struct {
	// Listening runs each time the LISTEN is in place: whatever was announced while it was not
	// has been missed, so anything remembered from before should be looked at again.
	Listening func()
	// Notified runs for each notification, with its payload.
	Notified func(payload string)
	// Lost runs when the connection fails; Listen listens again after a pause.
	Lost func(err error)
}

// Listen listens on channel on a connection of its own until ctx ends, and listens again after a
// lost connection, after a pause that doubles from 100 ms up to 5 s while it keeps failing.
func (s *Store) Listen(ctx context.Context, channel string, l Listener) {
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		err := s.listen(ctx, channel, func() {
			wait = 100 * time.Millisecond
			l.Listening()
		}, l.Notified)
		if ctx.Err() != nil {
			return
		}
		l.Lost(err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// listen listens on channel on a connection of its own until ctx ends or the connection fails.
func (s *Store) listen(ctx context.Context, channel string, listening func(), notified func(payload string)) error {
	pooled, err := s.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection stays in LISTEN state: take it out of the pool and close it after.
	conn := pooled.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		notified(n.Payload)
	}
}
