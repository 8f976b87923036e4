// Package httpserver builds the project's HTTP servers with the limits of one
// that faces the internet, and runs them until their context ends.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// WriteTimeout bounds a handler's whole answer: the webhook receiver answers
// in less (within 5 s).
const WriteTimeout = 40 * time.Second

const (
	readHeaderTimeout = 5 * time.Second
	// readTimeout bounds how long a request, body included, may hold a
	// connection and whatever its handler reserved for it, for handlers
	// that set no tighter deadline of their own (the webhook receiver does).
	// Every client of these servers sends a request of at most a few MiB
	// from nearby.
	readTimeout    = 10 * time.Second
	idleTimeout    = 120 * time.Second
	maxHeaderBytes = 64 << 10
	// shutdownTimeout is how long requests in flight may take to finish once
	// the server is told to stop.
	shutdownTimeout = 30 * time.Second
)

// New returns a server for h with the limits of this package.
func New(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// Serve serves srv on ln until ctx is done, then stops accepting and lets the
// requests in flight finish, for up to shutdownTimeout. Their contexts are not
// ctx, so a shutdown does not cut a request off halfway.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errCh := make(chan error, 1)
	go func() { errCh <- srv.Serve(ln) }()
	select {
	case err := <-errCh:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutting down the server on %s: %w", ln.Addr(), err)
	}
	return nil
}
