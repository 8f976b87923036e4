// Package pgtest gives tests a real PostgreSQL, started by hack/postgres.sh
// (Debian's postgresql, installed when missing, running as an unprivileged
// user on a free loopback port), and a fresh database per test.
//
// `make test` starts one server for the whole run and passes its URL in
// ARCHIVE_TEST_DATABASE_URL; without it, each test binary starts its own, so
// `go test ./internal/archive/` works alone.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable holding the URL of a server tests may create
// databases on.
const EnvURL = "ARCHIVE_TEST_DATABASE_URL"

// Server is a PostgreSQL started by hack/postgres.sh in a directory of its own.
type Server struct {
	// URL reaches the server's postgres database as a superuser.
	URL string
	dir string
}

func script() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "hack", "postgres.sh")
}

func run(verb, dir string) (string, error) {
	cmd := exec.Command(script(), verb, dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/postgres.sh %s: %w: %s", verb, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// Start starts a server of its own, for tests that stop and restart it.
func Start() (*Server, error) {
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: filepath.Join(dir, "pg")}
	if s.URL, err = run("start", s.dir); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// Stop stops the server, keeping its data; Resume starts it again on the
// same port.
func (s *Server) Stop() error {
	_, err := run("stop", s.dir)
	return err
}

// Resume starts a stopped server again.
func (s *Server) Resume() error {
	_, err := run("start", s.dir)
	return err
}

// Destroy stops the server and deletes its data.
func (s *Server) Destroy() error {
	_, err := run("destroy", s.dir)
	_ = os.RemoveAll(filepath.Dir(s.dir))
	return err
}

// Shared is the server a test binary uses: the one in ARCHIVE_TEST_DATABASE_URL,
// or one of its own, which undo destroys.
func Shared() (serverURL string, undo func(), err error) {
	if u := os.Getenv(EnvURL); u != "" {
		return u, func() {}, nil
	}
	s, err := Start()
	if err != nil {
		return "", nil, err
	}
	return s.URL, func() {
		if err := s.Destroy(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}, nil
}

// Database creates an empty database on the server at serverURL for one test,
// drops it when the test ends, and returns its URL.
func Database(t testing.TB, serverURL string) string {
	t.Helper()
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "test_" + hex.EncodeToString(suffix)
	admin := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			return err
		}
		defer func() { _ = conn.Close(ctx) }()
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := admin("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// FORCE: a test that failed may leave connections behind.
		if err := admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("dropping database %s: %v", name, err)
		}
	})
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatalf("parsing %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}
