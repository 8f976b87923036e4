package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/hubsignature"
)

const (
	secret      = "s3cr3t-app-secret"
	verifyToken = "verify-me"
)

// A body as Meta sends it: non-ASCII escaped, so any re-encoding would break
// the signature.
const sampleBody = `{"entry":[{"changes":[{"value":{"messages":[{"text":{"body":"caf\u00e9"}}]}}]}],"object":"whatsapp_business_account"}` + "\n"

// fakeReceiver checks signatures over the raw bytes and performs the
// verification handshake, like the operator's receiver.
type fakeReceiver struct {
	secret []byte // nil accepts unsigned posts

	mu        sync.Mutex
	body      []byte
	signature string
	query     string
}

func (f *fakeReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		f.query = r.URL.RawQuery
		if q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != verifyToken {
			http.Error(w, "wrong verify token", http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, q.Get("hub.challenge"))
	case http.MethodPost:
		f.body, _ = io.ReadAll(r.Body)
		f.signature = r.Header.Get(hubsignature.Header)
		if f.secret != nil {
			if err := hubsignature.Verify(f.secret, f.body, f.signature); err != nil {
				http.Error(w, `{"error":"bad signature"}`, http.StatusUnauthorized)
				return
			}
		}
		_, _ = io.WriteString(w, `{"stored":1}`)
	}
}

type result struct {
	code           int
	stdout, stderr string
}

func invoke(t *testing.T, stdin string, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, strings.NewReader(stdin), &stdout, &stderr, func(k string) string { return env[k] })
	r := result{code, stdout.String(), stderr.String()}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Fatalf("the secret was printed:\n%s%s", r.stdout, r.stderr)
	}
	return r
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func startReceiver(t *testing.T, secret []byte) (*fakeReceiver, string) {
	t.Helper()
	f := &fakeReceiver{secret: secret}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL + "/webhooks/abc"
}

func TestPostSignedFromFile(t *testing.T) {
	rcv, url := startReceiver(t, []byte(secret))
	secretFile := writeFile(t, "secret", secret+"\n") // as `echo` writes it
	body := writeFile(t, "body.json", sampleBody)

	r := invoke(t, "", nil, "--url", url, "--secret-file", secretFile, "--file", body)
	if r.code != 0 || r.stdout != "HTTP 200 OK\n{\"stored\":1}\n" || r.stderr != "" {
		t.Fatalf("got %+v, want exit 0 printing the answer", r)
	}
	if string(rcv.body) != sampleBody {
		t.Fatalf("receiver got %q, want the file's exact bytes", rcv.body)
	}
}

func TestPostSignedFromEnvAndStdin(t *testing.T) {
	rcv, url := startReceiver(t, []byte(secret))
	r := invoke(t, sampleBody, map[string]string{"APP_SECRET": secret}, "--url", url, "--secret-env", "APP_SECRET")
	if r.code != 0 {
		t.Fatalf("got %+v, want exit 0", r)
	}
	if string(rcv.body) != sampleBody || rcv.signature != hubsignature.Sign([]byte(secret), []byte(sampleBody)) {
		t.Fatalf("receiver got %q signed %q", rcv.body, rcv.signature)
	}
}

func TestPostUnsigned(t *testing.T) {
	rcv, url := startReceiver(t, nil)
	r := invoke(t, `{"statuses":[]}`, nil, "--url", url, "--file", "-")
	if r.code != 0 || rcv.signature != "" {
		t.Fatalf("got %+v with signature %q, want an unsigned post", r, rcv.signature)
	}
}

func TestRefusedPostExitsNonZero(t *testing.T) {
	_, url := startReceiver(t, []byte(secret))
	r := invoke(t, sampleBody, map[string]string{"APP_SECRET": "not-the-secret"}, "--url", url, "--secret-env", "APP_SECRET")
	if r.code != exitRefused || !strings.HasPrefix(r.stdout, "HTTP 401 Unauthorized\n") || !strings.Contains(r.stdout, "bad signature") || !strings.Contains(r.stderr, "401") {
		t.Fatalf("got %+v, want exit 1 with the 401 answer printed", r)
	}
}

func TestUnreachableReceiver(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	r := invoke(t, sampleBody, nil, "--url", url)
	if r.code != exitRefused || !strings.Contains(r.stderr, "POST "+url) {
		t.Fatalf("got %+v, want exit 1 naming the URL", r)
	}
	r = invoke(t, "", nil, "--url", url+"/?x=1", "--verify-token", verifyToken)
	if r.code != exitRefused || strings.Contains(r.stderr, verifyToken) {
		t.Fatalf("got %+v, want exit 1 without the verify token", r)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	r := invoke(t, sampleBody, nil, "--url", srv.URL, "--timeout", "50ms")
	if r.code != exitRefused || !strings.Contains(r.stderr, "deadline exceeded") {
		t.Fatalf("got %+v, want exit 1 on timeout", r)
	}
}

func TestVerifyHandshake(t *testing.T) {
	rcv, url := startReceiver(t, nil)

	r := invoke(t, "", nil, "--url", url+"?keep=1", "--verify-token", verifyToken, "--challenge", "1158201444")
	if r.code != 0 || r.stdout != "HTTP 200 OK\n1158201444\n" {
		t.Fatalf("got %+v, want exit 0 echoing the challenge", r)
	}
	if !strings.Contains(rcv.query, "keep=1") {
		t.Fatalf("query %q lost the URL's own parameters", rcv.query)
	}

	if r := invoke(t, "", nil, "--url", url, "--verify-token", verifyToken); r.code != 0 || len(r.stdout) <= len("HTTP 200 OK\n\n") {
		t.Fatalf("random challenge: got %+v", r)
	}
	if r := invoke(t, "", nil, "--url", url, "--verify-token", "wrong"); r.code != exitRefused || !strings.HasPrefix(r.stdout, "HTTP 403") {
		t.Fatalf("wrong token: got %+v, want exit 1 with 403", r)
	}
}

func TestVerifyNeedsTheChallengeEchoed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	r := invoke(t, "", nil, "--url", srv.URL, "--verify-token", verifyToken, "--challenge", "42")
	if r.code != exitRefused || !strings.Contains(r.stderr, "did not echo") {
		t.Fatalf("got %+v, want exit 1", r)
	}
}

func TestUsageErrors(t *testing.T) {
	empty := writeFile(t, "empty", "\n")
	body := writeFile(t, "body.json", sampleBody)
	env := map[string]string{"APP_SECRET": secret}
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"secret on the command line", sampleBody, []string{"--url", "http://x", "--secret", secret}, "refusing --secret"},
		{"secret= on the command line", sampleBody, []string{"--url", "http://x", "-secret=" + secret}, "refusing --secret"},
		{"no URL", sampleBody, nil, "--url"},
		{"relative URL", sampleBody, []string{"--url", "127.0.0.1:8082/webhooks/x"}, "--url"},
		{"both secret sources", sampleBody, []string{"--url", "http://x", "--secret-env", "APP_SECRET", "--secret-file", body}, "not both"},
		{"unset secret variable", sampleBody, []string{"--url", "http://x", "--secret-env", "NOPE"}, "NOPE is empty or unset"},
		{"empty secret file", sampleBody, []string{"--url", "http://x", "--secret-file", empty}, "is empty"},
		{"missing secret file", sampleBody, []string{"--url", "http://x", "--secret-file", empty + ".missing"}, "reading secret"},
		{"empty body", "", []string{"--url", "http://x"}, "body is empty"},
		{"missing body file", "", []string{"--url", "http://x", "--file", body + ".missing"}, "reading body"},
		{"stray argument", sampleBody, []string{"--url", "http://x", "body.json"}, "unexpected arguments"},
		{"challenge without verify token", "", []string{"--url", "http://x", "--challenge", "1"}, "--challenge needs --verify-token"},
		{"verify with a body", "", []string{"--url", "http://x", "--verify-token", "t", "--file", body}, "do not apply"},
		{"empty verify token", "", []string{"--url", "http://x", "--verify-token", ""}, "must not be empty"},
		{"unknown flag", "", []string{"--url", "http://x", "--bogus"}, "not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := invoke(t, tt.stdin, env, tt.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
				t.Fatalf("got %+v, want exit %d with %q", r, exitUsage, tt.want)
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	r := invoke(t, "", nil, "--help")
	if r.code != 0 || !strings.Contains(r.stderr, "-secret-file") {
		t.Fatalf("got %+v, want exit 0 with usage", r)
	}
}
