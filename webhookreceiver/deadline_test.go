package webhookreceiver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
)

// hangingWrites is the operator's client in front of an API server that takes
// every write and never answers it, as one does while etcd is unreachable: reads
// still come from the informer cache.
type hangingWrites struct {
	client.Client
	deadlines chan time.Time
}

func (h hangingWrites) Create(ctx context.Context, _ client.Object, _ ...client.CreateOption) error {
	deadline, _ := ctx.Deadline()
	h.deadlines <- deadline
	<-ctx.Done()
	return ctx.Err()
}

// Senders wait about 5 s for an answer. While the API server does not answer, a
// webhook is answered 503 with Retry-After, from a store that was given a deadline
// within those 5 s of the request's arrival (without one the store would wait
// for ever, and so would this test).
func TestAnswersWhileTheAPIServerHangs(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	hanging := hangingWrites{Client: mgrCache, deadlines: make(chan time.Time, 1)}
	receiver := webhookreceiver.New(webhookreceiver.Options{Client: hanging, APIReader: env.Client, Log: logr.Discard()})
	srv := httptest.NewServer(receiver.Handler())
	defer srv.Close()

	body := cloudOrders(map[string][]cart.Item{"hang": {item(1, "5", "USD")}})
	req, err := webhookbody.Sign(body, []byte(appSecret)).Request(ctx, srv.URL+ch.Status.WebhookPath)
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	r := send(t, req)
	if r.code != http.StatusServiceUnavailable || r.retryAfter == "" {
		t.Fatalf("answer while the API server hangs: %d, Retry-After %q, %s; want 503 with Retry-After", r.code, r.retryAfter, r.body)
	}
	deadline := <-hanging.deadlines
	if deadline.IsZero() || deadline.Sub(sent) > 5*time.Second {
		t.Fatalf("the store's deadline was %s after the request (zero: none); want within 5s", deadline.Sub(sent))
	}
}
