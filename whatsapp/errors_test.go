package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name       string
		onPrem     bool
		status     int
		header     map[string]string
		answer     string
		want       Class
		code       int64
		subcode    int64
		retryAfter time.Duration
		message    string
	}{
		{
			name: "cloud window closed", status: 400, want: WindowClosed, code: 131047, subcode: 2494010,
			answer:  `{"error":{"message":"Re-engagement message","type":"OAuthException","code":131047,"error_subcode":2494010,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"AbCdEf"}}`,
			message: "Re-engagement message: Message failed to send because more than 24 hours",
		},
		{
			name: "on-premises window closed", onPrem: true, status: 400, want: WindowClosed, code: 470,
			answer:  `{"errors":[{"code":470,"title":"Message failed to send because more than 24 hours have passed since the customer last replied to this number","details":"Use a template"}]}`,
			message: "more than 24 hours have passed since the customer last replied to this number: Use a template",
		},
		{
			name: "window closed inside a 200 answer", status: 200, want: WindowClosed, code: 131047,
			answer: `{"error":{"message":"Re-engagement message","code":131047}}`,
		},
		{
			name: "throughput limit with Retry-After seconds", status: 400, want: RateLimited, code: 130429, retryAfter: 7 * time.Second,
			header: map[string]string{"Retry-After": "7"},
			answer: `{"error":{"message":"Rate limit hit","code":130429}}`,
		},
		{name: "pair rate limit", status: 400, want: RateLimited, code: 131056, answer: `{"error":{"message":"Pair rate limit hit","code":131056}}`},
		{name: "account rate limit", status: 400, want: RateLimited, code: 80007, answer: `{"error":{"message":"Rate limit issues","code":80007}}`},
		{name: "application rate limit", status: 403, want: RateLimited, code: 4, answer: `{"error":{"message":"Application request limit reached","code":4}}`},
		{
			name: "HTTP 429 without JSON body", status: 429, want: RateLimited, retryAfter: 2 * time.Second,
			header: map[string]string{"Retry-After": "2", "Content-Type": "text/plain"}, answer: "", message: "body not a WhatsApp error",
		},
		{name: "on-premises 429", onPrem: true, status: 429, want: RateLimited, code: 1015, answer: `{"errors":[{"code":1015,"title":"Too many requests"}]}`},
		{name: "500 without body", status: 500, want: Transient, message: "body not a WhatsApp error"},
		{name: "502 HTML from a proxy", status: 502, want: Transient, answer: "<html><body>Bad gateway</body></html>", message: "body not a WhatsApp error"},
		{
			name: "503 with Retry-After", status: 503, want: Transient, code: 131016, retryAfter: 30 * time.Second,
			header: map[string]string{"Retry-After": "30"}, answer: `{"error":{"message":"Service unavailable","code":131016}}`,
		},
		{name: "invalid parameter", status: 400, want: Permanent, code: 100, answer: `{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100,"fbtrace_id":"A1"}}`, message: "(#100) Invalid parameter"},
		{name: "expired token", status: 401, want: Permanent, code: 190, answer: `{"error":{"message":"Error validating access token","type":"OAuthException","code":190}}`},
		{name: "404 plain text", status: 404, want: Permanent, answer: "404 page not found", message: "body not a WhatsApp error"},
		{name: "200 with malformed JSON", status: 200, want: Permanent, answer: `{"messages":[`},
		{name: "200 without message id", status: 200, want: Permanent, answer: `{"messaging_product":"whatsapp","messages":[]}`, message: "answer holds no message id"},
		{name: "200 with empty message id", status: 200, want: Permanent, answer: `{"messages":[{"id":""}]}`},
		{name: "201 with error array", onPrem: true, status: 201, want: Permanent, code: 1009, answer: `{"errors":[{"code":1009,"title":"Parameter value is not valid"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.answer)
			}))
			t.Cleanup(srv.Close)
			c := cloudClient(t, srv)
			if tt.onPrem {
				c = onPremClient(t, srv)
			}
			id, err := c.SendText(t.Context(), Send{To: Recipient{WaID: "16505551234"}}, "hello")
			if err == nil {
				t.Fatalf("SendText succeeded with id %q, want a %s error", id, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if e.Class != tt.want || ClassOf(err) != tt.want {
				t.Errorf("class = %q, want %q (error: %v)", e.Class, tt.want, err)
			}
			if e.HTTPStatus != tt.status || e.Code != tt.code || e.Subcode != tt.subcode {
				t.Errorf("status/code/subcode = %d/%d/%d, want %d/%d/%d", e.HTTPStatus, e.Code, e.Subcode, tt.status, tt.code, tt.subcode)
			}
			if RetryAfter(err) != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", RetryAfter(err), tt.retryAfter)
			}
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("message %q does not contain %q", e.Message, tt.message)
			}
		})
	}
}

func TestCloudErrorKeepsTraceID(t *testing.T) {
	_, srv := newServer(t, 400, `{"error":{"message":"(#100) Invalid parameter","code":100,"fbtrace_id":"AzXq1"}}`)
	_, err := cloudClient(t, srv).SendText(t.Context(), Send{To: Recipient{WaID: "1"}}, "hi")
	if e, ok := errors.AsType[*Error](err); !ok || e.FBTraceID != "AzXq1" {
		t.Fatalf("err = %#v, want fbtrace_id AzXq1", err)
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	when := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", when)
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(srv.Close)
	_, err := cloudClient(t, srv).SendText(t.Context(), Send{To: Recipient{WaID: "1"}}, "hi")
	// The date has one-second resolution and the request takes a moment.
	if d := RetryAfter(err); ClassOf(err) != RateLimited || d < 88*time.Second || d > 90*time.Second {
		t.Fatalf("err = %v, RetryAfter = %v, want RateLimited with about 90s", err, d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                               0,
		"0":                              0,
		" 5 ":                            5 * time.Second,
		"120":                            2 * time.Minute,
		"-3":                             0,
		"1.5":                            0,
		"soon":                           0,
		"99999999999":                    0,
		"Sun, 01 Mar 2026 12:00:45 GMT":  45 * time.Second,
		"Sunday, 01-Mar-26 12:01:00 GMT": time.Minute,
		"Sun, 01 Mar 2026 11:59:00 GMT":  0,
	}
	for in, want := range tests {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestConnectionRefusedIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	c := cloudClient(t, srv)
	srv.Close() // nothing listens on the address any more
	_, err := c.SendText(t.Context(), Send{To: Recipient{WaID: "1"}}, "hi")
	if ClassOf(err) != Transient {
		t.Fatalf("err = %v, want Transient", err)
	}
	if e, _ := errors.AsType[*Error](err); e.HTTPStatus != 0 || e.Err == nil {
		t.Fatalf("transport error %#v should carry its cause and no status", e)
	}
}

func TestDeadlines(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // never answers while the test runs
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close

	t.Run("caller deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := cloudClient(t, srv).SendText(ctx, Send{To: Recipient{WaID: "1"}}, "hi")
		assertDeadline(t, err, time.Since(start))
	})
	t.Run("default timeout when the context has none", func(t *testing.T) {
		c := mustClient(t, Config{BaseURL: srv.URL, PhoneNumberID: "1", AccessToken: testToken, Timeout: 50 * time.Millisecond})
		start := time.Now()
		_, err := c.SendText(context.Background(), Send{To: Recipient{WaID: "1"}}, "hi")
		assertDeadline(t, err, time.Since(start))
	})
}

func assertDeadline(t *testing.T, err error, took time.Duration) {
	t.Helper()
	if !errors.Is(err, context.DeadlineExceeded) || ClassOf(err) != Transient {
		t.Fatalf("err = %v, want Transient wrapping context.DeadlineExceeded", err)
	}
	if took > 5*time.Second {
		t.Fatalf("send took %v, the deadline was not honoured", took)
	}
}

func TestHelpersOnForeignErrors(t *testing.T) {
	if ClassOf(nil) != "" || RetryAfter(nil) != 0 {
		t.Error("nil error must have no class, not be retryable and have no delay")
	}
	plain := errors.New("boom")
	if ClassOf(plain) != Permanent {
		t.Error("an unclassified error must be Permanent")
	}
	wrapped := fmt.Errorf("notifying customer: %w", &Error{Class: RateLimited, RetryAfter: time.Second})
	if ClassOf(wrapped) != RateLimited || RetryAfter(wrapped) != time.Second {
		t.Error("helpers must see through wrapping")
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Class: RateLimited, HTTPStatus: 429, Code: 130429, Subcode: 7, Message: "Rate limit hit", RetryAfter: 2 * time.Second}
	want := "whatsapp: RateLimited: HTTP 429, code 130429, subcode 7: Rate limit hit (retry after 2s)"
	if got := e.Error(); got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
