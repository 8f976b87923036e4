package whatsapp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

const testToken = "EAAG-secret-token"

// recorded is one request the test server saw.
type recorded struct {
	method, path, auth, contentType, body string
}

// recorder is an API stand-in that records requests and answers with a fixed
// status and body.
type recorder struct {
	mu       sync.Mutex
	requests []recorded
	status   int
	answer   string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.requests = append(r.requests, recorded{
		method: req.Method, path: req.URL.EscapedPath(), auth: req.Header.Get("Authorization"),
		contentType: req.Header.Get("Content-Type"), body: string(body),
	})
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.status)
	_, _ = io.WriteString(w, r.answer)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

func (r *recorder) only(t *testing.T) recorded {
	t.Helper()
	if n := r.count(); n != 1 {
		t.Fatalf("server saw %d requests, want 1", n)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[0]
}

const (
	cloudOK  = `{"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2="}]}`
	onPremOK = `{"messages":[{"id":"gBGGEgZHMlEfAgkM1RBkhDRr7t8"}],"meta":{"api_status":"stable","version":"2.41.2"}}`
)

func newServer(t *testing.T, status int, answer string) (*recorder, *httptest.Server) {
	t.Helper()
	rec := &recorder{status: status, answer: answer}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, srv
}

func mustClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func cloudClient(t *testing.T, srv *httptest.Server) *Client {
	return mustClient(t, Config{BaseURL: srv.URL + "/v23.0", PhoneNumberID: "106540352242922", AccessToken: testToken})
}

func onPremClient(t *testing.T, srv *httptest.Server) *Client {
	return mustClient(t, Config{Generation: OnPremises, BaseURL: srv.URL + "/", AccessToken: testToken})
}

func TestSendRequestShape(t *testing.T) {
	tests := []struct {
		name     string
		onPrem   bool
		send     func(*Client) (string, error)
		wantPath string
		wantBody string
		wantID   string
	}{
		{
			name: "cloud text",
			send: func(c *Client) (string, error) {
				return c.SendText(t.Context(), Send{To: Recipient{WaID: "16505551234"}}, "Your order is on its way")
			},
			wantPath: "/v23.0/106540352242922/messages",
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"text","text":{"body":"Your order is on its way"}}`,
			wantID:   "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2=",
		},
		{
			name: "cloud reply in thread",
			send: func(c *Client) (string, error) {
				return c.SendText(t.Context(), Send{To: Recipient{WaID: "16505551234"}, ReplyTo: "wamid.HBgL+/="}, "Yes, in stock")
			},
			wantPath: "/v23.0/106540352242922/messages",
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","context":{"message_id":"wamid.HBgL+/="},"type":"text","text":{"body":"Yes, in stock"}}`,
			wantID:   "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2=",
		},
		{
			name: "cloud template with parameters",
			send: func(c *Client) (string, error) {
				return c.SendTemplate(t.Context(), Send{To: Recipient{WaID: "16505551234"}}, TemplateRef{Name: "order_update", Language: "en_US"}, []string{"A-17", "shipped"})
			},
			wantPath: "/v23.0/106540352242922/messages",
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"template","template":{"name":"order_update","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"A-17"},{"type":"text","text":"shipped"}]}]}}`,
			wantID:   "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2=",
		},
		{
			name: "cloud template without parameters",
			send: func(c *Client) (string, error) {
				return c.SendTemplate(t.Context(), Send{To: Recipient{WaID: "16505551234"}}, TemplateRef{Name: "hello_world", Language: "en_US"}, nil)
			},
			wantPath: "/v23.0/106540352242922/messages",
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`,
			wantID:   "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2=",
		},
		{
			name:   "on-premises text reply, non-ASCII",
			onPrem: true,
			send: func(c *Client) (string, error) {
				return c.SendText(t.Context(), Send{To: Recipient{WaID: "12064001000"}, ReplyTo: "ABGGFlA5FpafAgo6tHcNmNjXmuSf"}, "Café <ok> & \"quoted\"")
			},
			wantPath: "/v1/messages",
			wantBody: `{"recipient_type":"individual","to":"12064001000","context":{"message_id":"ABGGFlA5FpafAgo6tHcNmNjXmuSf"},"type":"text","text":{"body":"Café \u003cok\u003e \u0026 \"quoted\""}}`,
			wantID:   "gBGGEgZHMlEfAgkM1RBkhDRr7t8",
		},
		{
			name:   "on-premises template",
			onPrem: true,
			send: func(c *Client) (string, error) {
				return c.SendTemplate(t.Context(), Send{To: Recipient{WaID: "12064001000"}}, TemplateRef{Name: "order_update", Language: "en", Namespace: "ns-1234"}, []string{"A-17"})
			},
			wantPath: "/v1/messages",
			wantBody: `{"recipient_type":"individual","to":"12064001000","type":"template","template":{"namespace":"ns-1234","name":"order_update","language":{"policy":"deterministic","code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"A-17"}]}]}}`,
			wantID:   "gBGGEgZHMlEfAgkM1RBkhDRr7t8",
		},
		{
			name: "cloud text to a user id, with callback data",
			send: func(c *Client) (string, error) {
				return c.SendText(t.Context(), Send{To: Recipient{UserID: "US.13491208655302741918"}, CallbackData: "wco1|WhatsAppOrder|shop|o-1|Accepted"}, "Accepted")
			},
			wantPath: "/v23.0/106540352242922/messages",
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","recipient":"US.13491208655302741918","biz_opaque_callback_data":"wco1|WhatsAppOrder|shop|o-1|Accepted","type":"text","text":{"body":"Accepted"}}`,
			wantID:   "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2=",
		},
		{
			name: "cloud template: the phone number wins over the user id",
			send: func(c *Client) (string, error) {
				return c.SendTemplate(t.Context(), Send{To: Recipient{WaID: "16505551234", UserID: "US.1349"}, CallbackData: "cb"}, TemplateRef{Name: "hello_world", Language: "en_US", Namespace: "ignored-by-cloud"}, nil)
			},
			wantPath: "/v23.0/106540352242922/messages",
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","biz_opaque_callback_data":"cb","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`,
			wantID:   "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2=",
		},
		{
			name:   "on-premises template with the channel's namespace, callback data left out",
			onPrem: true,
			send: func(c *Client) (string, error) {
				return c.SendTemplate(t.Context(), Send{To: Recipient{WaID: "12064001000"}, CallbackData: "cb"}, TemplateRef{Name: "order_update", Language: "en", Namespace: "b1c2d3e4_f5a6"}, nil)
			},
			wantPath: "/v1/messages",
			wantBody: `{"recipient_type":"individual","to":"12064001000","type":"template","template":{"namespace":"b1c2d3e4_f5a6","name":"order_update","language":{"policy":"deterministic","code":"en"}}}`,
			wantID:   "gBGGEgZHMlEfAgkM1RBkhDRr7t8",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer, client := cloudOK, cloudClient
			if tt.onPrem {
				answer, client = onPremOK, onPremClient
			}
			rec, srv := newServer(t, http.StatusOK, answer)
			id, err := tt.send(client(t, srv))
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if id != tt.wantID {
				t.Errorf("message id = %q, want %q", id, tt.wantID)
			}
			got := rec.only(t)
			if got.method != http.MethodPost || got.path != tt.wantPath {
				t.Errorf("request = %s %s, want POST %s", got.method, got.path, tt.wantPath)
			}
			if got.auth != "Bearer "+testToken {
				t.Errorf("Authorization = %q", got.auth)
			}
			if got.contentType != "application/json" {
				t.Errorf("Content-Type = %q", got.contentType)
			}
			if got.body != tt.wantBody {
				t.Errorf("body:\n got %s\nwant %s", got.body, tt.wantBody)
			}
		})
	}
}

func TestDefaultCloudBaseURL(t *testing.T) {
	c := mustClient(t, Config{PhoneNumberID: "106540352242922", AccessToken: testToken})
	if want := DefaultCloudBaseURL + "/106540352242922/messages"; c.endpoint != want {
		t.Fatalf("endpoint = %q, want %q", c.endpoint, want)
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	tests := map[string]Config{
		"no token":                 {PhoneNumberID: "1"},
		"cloud without phone id":   {AccessToken: testToken},
		"on-premises without URL":  {Generation: OnPremises, AccessToken: testToken},
		"unknown generation":       {Generation: "Cloudy", PhoneNumberID: "1", AccessToken: testToken},
		"relative URL":             {BaseURL: "graph.facebook.com", PhoneNumberID: "1", AccessToken: testToken},
		"ftp URL":                  {BaseURL: "ftp://example.com", PhoneNumberID: "1", AccessToken: testToken},
		"URL with query":           {BaseURL: "https://example.com/?access_token=x", PhoneNumberID: "1", AccessToken: testToken},
		"unparsable URL":           {BaseURL: "http://[::1", PhoneNumberID: "1", AccessToken: testToken},
		"on-premises URL w/o host": {Generation: OnPremises, BaseURL: "http://", AccessToken: testToken},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := New(cfg); err == nil {
				t.Fatal("New accepted an incomplete config")
			}
		})
	}
}

func TestSendTextLimitCountsCharacters(t *testing.T) {
	rec, srv := newServer(t, http.StatusOK, cloudOK)
	c := cloudClient(t, srv)

	// 4096 two-byte characters are 8192 bytes but within the limit.
	if _, err := c.SendText(t.Context(), Send{To: Recipient{WaID: "16505551234"}}, strings.Repeat("é", MaxTextLength)); err != nil {
		t.Fatalf("SendText at the limit: %v", err)
	}
	_, err := c.SendText(t.Context(), Send{To: Recipient{WaID: "16505551234"}}, strings.Repeat("é", MaxTextLength+1))
	if !errors.Is(err, ErrTextTooLong) || ClassOf(err) != Permanent {
		t.Fatalf("SendText over the limit = %v (class %q), want Permanent ErrTextTooLong", err, ClassOf(err))
	}
	rec.only(t) // the oversize message never reached the server
}

func TestInvalidMessagesAreNotSent(t *testing.T) {
	rec, srv := newServer(t, http.StatusOK, cloudOK)
	c := cloudClient(t, srv)
	sends := map[string]func() (string, error){
		"text without recipient": func() (string, error) { return c.SendText(t.Context(), Send{To: Recipient{WaID: ""}}, "hi") },
		"empty text":             func() (string, error) { return c.SendText(t.Context(), Send{To: Recipient{WaID: "1"}}, "") },
		"template without recipient": func() (string, error) {
			return c.SendTemplate(t.Context(), Send{To: Recipient{WaID: ""}}, TemplateRef{Name: "hello_world", Language: "en"}, nil)
		},
		"template without name": func() (string, error) {
			return c.SendTemplate(t.Context(), Send{To: Recipient{WaID: "1"}}, TemplateRef{Name: "", Language: "en"}, nil)
		},
		"template without language": func() (string, error) {
			return c.SendTemplate(t.Context(), Send{To: Recipient{WaID: "1"}}, TemplateRef{Name: "hello_world", Language: ""}, nil)
		},
	}
	for name, send := range sends {
		t.Run(name, func(t *testing.T) {
			if _, err := send(); !errors.Is(err, ErrInvalidMessage) || ClassOf(err) != Permanent {
				t.Fatalf("err = %v, want Permanent ErrInvalidMessage", err)
			}
		})
	}
	if n := rec.count(); n != 0 {
		t.Fatalf("server saw %d requests for invalid messages", n)
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	// A misbehaving proxy that echoes the Authorization header back.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"message":"bad token `+r.Header.Get("Authorization")+`","code":190}}`)
	}))
	t.Cleanup(srv.Close)
	_, err := cloudClient(t, srv).SendText(context.Background(), Send{To: Recipient{WaID: "1"}}, "hi")
	if err == nil || strings.Contains(err.Error(), testToken) {
		t.Fatalf("error %q must exist and must not contain the token", err)
	}
	if !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("error %q: expected the echoed token to be redacted", err)
	}
}

// A user id is never put in "to", and On-Premises, which predates user ids,
// cannot send to one: both are refused before anything is sent.
func TestRecipientsRefusedBeforeSending(t *testing.T) {
	tests := []struct {
		name   string
		onPrem bool
		to     Recipient
		want   error
	}{
		{name: "user id in the WhatsApp id", to: Recipient{WaID: "US.13491208655302741918"}, want: ErrInvalidMessage},
		{name: "phone number with a plus", to: Recipient{WaID: "+16505551234"}, want: ErrInvalidMessage},
		{name: "nobody", to: Recipient{}, want: ErrInvalidMessage},
		{name: "on-premises user id", onPrem: true, to: Recipient{UserID: "US.13491208655302741918"}, want: ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, srv := newServer(t, http.StatusOK, cloudOK)
			c := cloudClient(t, srv)
			if tt.onPrem {
				c = onPremClient(t, srv)
			}
			_, err := c.SendText(t.Context(), Send{To: tt.to}, "hi")
			if !errors.Is(err, tt.want) || ClassOf(err) != Permanent {
				t.Fatalf("err = %v, want Permanent %v", err, tt.want)
			}
			if n := rec.count(); n != 0 {
				t.Fatalf("server saw %d requests, want none", n)
			}
		})
	}
}
