package fakewhatsapp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// Front serves many fakes at one address, each under its own first path
// segment. The operator sends only under its --allowed-api-urls; a suite that
// starts one operator for many tests, each with its own fake on its own port,
// allows the Front's URL once and points each channel at its Route.
type Front struct {
	ln     net.Listener
	server *http.Server

	mu     sync.Mutex
	routes map[string]*url.URL
}

// StartFront listens on addr (DefaultAddr when empty) and serves routes.
func StartFront(addr string) (*Front, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fakewhatsapp: front listening on %s: %w", addr, err)
	}
	f := &Front{ln: ln, routes: map[string]*url.URL{}}
	f.server = &http.Server{Handler: &httputil.ReverseProxy{Rewrite: f.rewrite}}
	go func() { _ = f.server.Serve(ln) }()
	return f, nil
}

// URL is the Front's base URL, e.g. http://127.0.0.1:41234.
func (f *Front) URL() string { return "http://" + f.ln.Addr().String() }

// Route serves fake under /name and returns the base URL a channel sends to.
func (f *Front) Route(name string, fake *Server) (string, error) {
	if name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("fakewhatsapp: route name %q is empty or has a slash", name)
	}
	target, err := url.Parse(fake.URL())
	if err != nil || fake.URL() == "" {
		return "", errors.Join(errors.New("fakewhatsapp: the fake is not started"), err)
	}
	f.mu.Lock()
	f.routes[name] = target
	f.mu.Unlock()
	return f.URL() + "/" + name, nil
}

// rewrite sends /name/rest to rest on name's fake; an unknown name goes
// nowhere (the proxy answers 502).
func (f *Front) rewrite(r *httputil.ProxyRequest) {
	name, rest, _ := strings.Cut(strings.TrimPrefix(r.In.URL.Path, "/"), "/")
	f.mu.Lock()
	target := f.routes[name]
	f.mu.Unlock()
	if target == nil {
		target = &url.URL{Scheme: "http", Host: "unrouted.invalid"}
	}
	r.Out.URL.Path, r.Out.URL.RawPath = "/"+rest, ""
	r.SetURL(target)
}

// Close stops the Front.
func (f *Front) Close() error { return f.server.Close() }
