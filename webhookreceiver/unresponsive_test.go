package webhookreceiver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
)

// unresponsiveAPI is the operator's client while the API server stops
// answering writes: each one waits until its caller gives up.
type unresponsiveAPI struct {
	client.Client
	hang *atomic.Bool
}

func (u unresponsiveAPI) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	if u.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return u.Client.Create(ctx, obj, opts...)
}

// TestAnAPIServerThatDoesNotAnswerGets503: while writes hang, a delivery is
// answered (503 with Retry-After, within AnswerWithin) instead of waiting
// with it; once the API server answers again, the redelivery is stored.
func TestAnAPIServerThatDoesNotAnswerGets503(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	var hang atomic.Bool
	rc := webhookreceiver.New(webhookreceiver.Options{
		Client: unresponsiveAPI{Client: mgrCache, hang: &hang}, APIReader: env.Client,
		Recorder: events.NewFakeRecorder(10), SecretResyncPeriod: time.Hour,
	})
	srv := httptest.NewServer(rc.Handler())
	defer srv.Close()
	postTo := func(body []byte) response {
		req, err := webhookbody.Sign(body, []byte(appSecret)).Request(ctx, srv.URL+ch.Status.WebhookPath)
		if err != nil {
			t.Fatal(err)
		}
		return send(t, req)
	}
	if r := postTo(cloudOrders(map[string][]cart.Item{"first": {item(1, "1", "USD")}})); r.code != http.StatusOK {
		t.Fatalf("before the outage: %d %s", r.code, r.body)
	}

	hang.Store(true)
	body := cloudOrders(map[string][]cart.Item{"during": {item(1, "1", "USD")}})
	r := postTo(body)
	if c := countsOf(t, r); r.code != http.StatusServiceUnavailable || r.retryAfter == "" || c != (counts{Failed: 1}) {
		t.Fatalf("during the outage: %d (Retry-After %q) %s, want 503 with Retry-After and 1 failed", r.code, r.retryAfter, r.body)
	}

	hang.Store(false)
	if r := postTo(body); r.code != http.StatusOK || countsOf(t, r) != (counts{Created: 1}) {
		t.Fatalf("the redelivery after the outage: %d %s, want 200 with 1 created", r.code, r.body)
	}
}
