package fakewhatsapp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/hubsignature"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

const (
	testToken   = "fake-access-token"
	testPhoneID = "106540352242922"
	customer    = "16505551234"
)

// startFake runs a fake for the duration of the test.
func startFake(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// cloudClient is the real client pointed at the fake, with a Graph version
// prefix as in production.
func cloudClient(t *testing.T, s *Server, token string) *whatsapp.Client {
	t.Helper()
	c, err := whatsapp.New(whatsapp.Config{BaseURL: s.URL() + "/v23.0", PhoneNumberID: testPhoneID, AccessToken: token})
	if err != nil {
		t.Fatalf("whatsapp.New: %v", err)
	}
	return c
}

func onPremClient(t *testing.T, s *Server, token string) *whatsapp.Client {
	t.Helper()
	c, err := whatsapp.New(whatsapp.Config{Generation: whatsapp.OnPremises, BaseURL: s.URL(), AccessToken: token})
	if err != nil {
		t.Fatalf("whatsapp.New: %v", err)
	}
	return c
}

// delivery is one webhook a receiver accepted.
type delivery struct {
	body      []byte
	signature string
}

// receiver is a webhook endpoint that checks signatures the way the
// operator's receiver must: over the raw bytes, rejecting with 401.
type receiver struct {
	secret []byte

	mu         sync.Mutex
	status     int // answer for correctly signed bodies; 0 means 200
	deliveries []delivery
	arrived    chan struct{}
}

func startReceiver(t *testing.T, secret []byte) (*receiver, *httptest.Server) {
	t.Helper()
	rc := &receiver{secret: secret, arrived: make(chan struct{}, 100)}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sig := r.Header.Get(hubsignature.Header)
	if len(rc.secret) > 0 {
		if err := hubsignature.Verify(rc.secret, body, sig); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
	}
	if r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "want application/json", http.StatusUnsupportedMediaType)
		return
	}
	rc.mu.Lock()
	rc.deliveries = append(rc.deliveries, delivery{body: body, signature: sig})
	status := rc.status
	rc.mu.Unlock()
	rc.arrived <- struct{}{}
	if status != 0 {
		http.Error(w, "refused by test", status)
	}
}

// await waits for n more webhooks to arrive, at most 5 s for each.
func (rc *receiver) await(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-rc.arrived:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d status webhooks arrived", len(rc.all()), n)
		}
	}
}

func (rc *receiver) refuseWith(status int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.status = status
}

func (rc *receiver) all() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.deliveries...)
}

// webhookStatus is the part of a status webhook the tests look at, from
// either generation's body.
type webhookStatus struct {
	ID              string `json:"id"`
	Status          string `json:"status"`
	Timestamp       string `json:"timestamp"`
	RecipientID     string `json:"recipient_id"`
	RecipientUserID string `json:"recipient_user_id"`
	CallbackData    string `json:"biz_opaque_callback_data"`
	Pricing         *struct {
		Category string `json:"category"`
	} `json:"pricing"`
	Errors []struct {
		Code      int64  `json:"code"`
		Title     string `json:"title"`
		Message   string `json:"message"`
		ErrorData *struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"errors"`
}

// statusesOf decodes the statuses of one webhook body, Cloud or On-Premises.
func statusesOf(t *testing.T, body []byte) []webhookStatus {
	t.Helper()
	var b struct {
		Statuses []webhookStatus `json:"statuses"`
		Entry    []struct {
			Changes []struct {
				Value struct {
					Statuses []webhookStatus `json:"statuses"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("webhook body %s: %v", body, err)
	}
	if len(b.Entry) > 0 {
		return b.Entry[0].Changes[0].Value.Statuses
	}
	return b.Statuses
}

// admin calls the fake's admin API and returns status and body.
func admin(t *testing.T, s *Server, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
