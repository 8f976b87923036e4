package webhookreceiver_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/hubsignature"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
)

// stuckCreates is the manager's client with creates held: each announces
// itself on entered, then waits for release or, when release is nil, for its
// context to end, as against an API server that does not answer.
type stuckCreates struct {
	client.Client
	entered  chan time.Time
	release  chan struct{}
	deadline chan time.Time
}

func (s *stuckCreates) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	s.entered <- time.Now()
	if dl, ok := ctx.Deadline(); ok {
		s.deadline <- dl
	} else {
		s.deadline <- time.Time{}
	}
	if s.release == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	<-s.release
	return s.Client.Create(ctx, obj, opts...)
}

// receiverWith serves a receiver of its own over c and reader, admitting
// maxStores bodies.
func receiverWith(t *testing.T, c client.Client, reader client.Reader, maxStores int) *httptest.Server {
	t.Helper()
	r := webhookreceiver.New(webhookreceiver.Options{
		Client: c, APIReader: reader, Recorder: events.NewFakeRecorder(16), Log: ctrl.Log,
		MaxStores: maxStores, AdmissionWait: time.Millisecond,
	})
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// A body that cannot start storing is answered 503 with Retry-After at once,
// instead of queueing behind the stores in flight; those still finish.
func TestBusyReceiverSheds(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	stuck := &stuckCreates{Client: mgrCache, entered: make(chan time.Time, 1), release: make(chan struct{}), deadline: make(chan time.Time, 1)}
	srv := receiverWith(t, stuck, env.Client, 1)
	body := sample(t, "cloud-order-multi-item.json")

	first := make(chan response, 1)
	go func() { first <- postTo(t, srv.URL, ch.Status.WebhookPath, body) }()
	<-stuck.entered
	<-stuck.deadline
	second := postTo(t, srv.URL, ch.Status.WebhookPath, body)
	if second.code != http.StatusServiceUnavailable || second.retryAfter == "" {
		t.Errorf("second body while the first is stored: %d, Retry-After %q; want 503 with Retry-After", second.code, second.retryAfter)
	}
	close(stuck.release)
	if r := <-first; r.code != http.StatusOK {
		t.Errorf("the admitted body: %d %s", r.code, r.body)
	}
	if n := len(orders(t, ch.Namespace)); n != 1 {
		t.Errorf("%d orders stored, want the first body's one", n)
	}
}

// An API server that never answers still gets the sender its answer within
// the contract's 5 seconds: the store's deadline is set from the arrival.
func TestStoreThatHangsIsAnsweredInTime(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	stuck := &stuckCreates{Client: mgrCache, entered: make(chan time.Time, 1), deadline: make(chan time.Time, 1)}
	srv := receiverWith(t, stuck, env.Client, 4)
	sent := time.Now()
	r := postTo(t, srv.URL, ch.Status.WebhookPath, sample(t, "cloud-order-multi-item.json"))
	if r.code != http.StatusServiceUnavailable || r.retryAfter == "" {
		t.Errorf("answer %d, Retry-After %q; want 503 with Retry-After", r.code, r.retryAfter)
	}
	<-stuck.entered
	dl := <-stuck.deadline
	if dl.IsZero() || dl.Sub(sent) > 5*time.Second {
		t.Errorf("the store ran with deadline %v, %s after the request was sent; want one within 5 s", dl, dl.Sub(sent))
	}
}

// stuckReads is a reader whose reads never answer, as an API server that hangs.
type stuckReads struct{ client.Reader }

func (stuckReads) Get(ctx context.Context, _ client.ObjectKey, _ client.Object, _ ...client.GetOption) error {
	<-ctx.Done()
	return ctx.Err()
}

// A Secret that cannot be read in time is the cluster's matter: answered in
// time with the cluster's 503, not as a channel waiting on a person.
func TestSecretReadThatHangsIsAnsweredAsTheCluster(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	srv := receiverWith(t, mgrCache, stuckReads{Reader: env.Client}, 4)
	r := postTo(t, srv.URL, ch.Status.WebhookPath, sample(t, "cloud-order-multi-item.json"))
	if r.code != http.StatusServiceUnavailable || r.retryAfter != "10" {
		t.Errorf("answer %d, Retry-After %q (%s); want 503 with the cluster's Retry-After 10", r.code, r.retryAfter, r.body)
	}
}

// postTo posts a signed body to path on the server at base.
func postTo(t *testing.T, base, path string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return response{}
	}
	req.Header.Set(hubsignature.Header, hubsignature.Sign([]byte(appSecret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return response{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, body: string(b), retryAfter: resp.Header.Get("Retry-After")}
}
