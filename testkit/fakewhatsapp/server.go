package fakewhatsapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/httpserver"
)

// DefaultAddr listens on a free loopback port: the fake has no
// authentication on its admin API, so it must not be reachable from outside
// by default.
const DefaultAddr = "127.0.0.1:0"

// DemoAddr is where the fake listens for demos (hack/fakewhatsapp, and the demo
// of `make run`), at a fixed port so a channel's spec.apiURL can name it.
const DemoAddr = "127.0.0.1:8090"

// Options configure a Server. The zero value is a working fake on a free
// loopback port that accepts any token and posts no webhooks on its own.
type Options struct {
	// Addr is the listen address; empty means DefaultAddr.
	Addr string
	// AccessToken, when set, is the only bearer token sends may carry; others
	// get 401 as from the real API.
	AccessToken string
	// WebhookURL is the receiver status webhooks go to from the admin API and
	// with AutoStatus.
	WebhookURL string
	// AppSecret signs those webhooks; empty sends them unsigned, as an
	// On-Premises client does.
	AppSecret []byte
	// AutoStatus posts sent, delivered and read to WebhookURL after each
	// accepted send.
	AutoStatus bool
	// SentBeforeAnswer posts the "sent" status of each accepted send to
	// WebhookURL before the send is answered, as WhatsApp may: the sender
	// cannot have recorded the message id yet. A status the receiver does not
	// answer 200 is posted again every RedeliveryDelay, as WhatsApp retries,
	// until it is taken or the fake closes. With AutoStatus, delivered and
	// read follow as usual.
	SentBeforeAnswer bool
	// RedeliveryDelay is the wait between posts of a refused early status;
	// one second if zero.
	RedeliveryDelay time.Duration
	// StatusDelay is waited before each auto-posted status, so the sender has
	// stored the message id before its statuses arrive.
	StatusDelay time.Duration
	// PhoneNumberID goes into the metadata of Cloud status webhooks for
	// message ids the fake did not send itself.
	PhoneNumberID string
	// OnAccepted, when set, is called with each send the fake accepted, once
	// its answer is written: a load generator plays WhatsApp's status timing
	// from it. It must not block.
	OnAccepted func(SentMessage)
	// Logger receives one line per send; nil discards.
	Logger *slog.Logger
}

// Server is the fake API. It is safe for concurrent use.
type Server struct {
	opts   Options
	log    *slog.Logger
	http   *http.Server
	poster *http.Client

	// ctx ends background status posting on Close; wg waits for it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	listener net.Listener
	closed   bool
	sent     []SentMessage
	early    []EarlyStatus
	failure  FailureMode
	failLeft int // sends still to fail; failAlways means until Reset
	// then are the failures of the sends after those, one each (FailSequence).
	then []FailureMode
	// undeliverable is the error code of the next accepted sends whose
	// auto-posted statuses report them failed; undeliverableLeft how many.
	undeliverable     int64
	undeliverableLeft int
	// catalogs are the known catalogs' products; nil accepts any id.
	catalogs map[string][]string
	// bills are the accepted order_details messages by reference_id.
	bills map[string]*billState
	// lookups counts the payment lookups answered, by reference_id.
	lookups map[string]int
}

// New returns a Server that is not listening yet; call Start.
func New(opts Options) *Server {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:   opts,
		log:    log,
		poster: &http.Client{Timeout: 10 * time.Second},
		ctx:    ctx,
		cancel: cancel,
	}
	s.http = httpserver.New(s.routes())
	return s
}

// routes wires the API paths of both generations and the admin API.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/messages", s.handleOnPremSend)
	mux.HandleFunc("POST /{phone}/messages", s.handleCloudSend)
	mux.HandleFunc("POST /{version}/{phone}/messages", s.handleCloudSend)
	mux.HandleFunc("GET /{phone}/payments/{configuration}/{reference}", s.handleLookup)
	mux.HandleFunc("GET /{version}/{phone}/payments/{configuration}/{reference}", s.handleLookup)
	mux.HandleFunc("GET /_fake/sent", s.handleSent)
	mux.HandleFunc("POST /_fake/fail", s.handleFail)
	mux.HandleFunc("POST /_fake/fail-delivery", s.handleFailDelivery)
	mux.HandleFunc("POST /_fake/reset", s.handleReset)
	mux.HandleFunc("POST /_fake/statuses", s.handleStatuses)
	mux.HandleFunc("POST /_fake/reply", s.handleReply)
	mux.HandleFunc("POST /_fake/catalogs", s.handleCatalog)
	mux.HandleFunc("POST /_fake/pay", s.handlePay)
	return mux
}

// Start listens on the configured address and serves in the background.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener != nil || s.closed {
		return errors.New("fakewhatsapp: already started or closed")
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("fakewhatsapp: listening on %s: %w", s.opts.Addr, err)
	}
	s.listener = ln
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serving stopped", "err", err)
		}
	}()
	return nil
}

// URL is the base URL of the running server, e.g. http://127.0.0.1:41234.
// It is empty before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return ""
	}
	return "http://" + s.listener.Addr().String()
}

// Close stops the server at once, aborting requests in flight (a fake has
// no work worth draining), then stops status posting and waits for it.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.http.Close()
	s.cancel()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("fakewhatsapp: closing: %w", err)
	}
	return nil
}

// goPostStatuses runs autoStatus for m in the background unless the server
// is closing (a delivery failure set by FailDeliveryNext turns its statuses
// into one failed); the check and wg.Add share the lock with Close so no goroutine
// starts after Close began waiting.
func (s *Server) goPostStatuses(m SentMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	t := s.targetFor(m)
	statuses := autoStatuses
	if s.opts.SentBeforeAnswer {
		statuses = autoStatuses[1:] // sent was posted before the answer
	}
	if s.undeliverableLeft > 0 {
		s.undeliverableLeft--
		t.failure = deliveryErrors[s.undeliverable][m.Generation]
		statuses = []string{"failed"}
	}
	s.wg.Add(1)
	go s.autoStatus(t, statuses)
}
