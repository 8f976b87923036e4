package webhookreceiver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
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

	body := cloudOrders(map[string][]payload.Item{"hang": {item(1, "5", "USD")}})
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

// slowWrites is the operator's client in front of an API server that takes
// each create, one at a time, delay after it is asked.
type slowWrites struct {
	client.Client
	delay time.Duration
}

func (s slowWrites) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Client.Create(ctx, obj, opts...)
}

// A body whose elements cannot all be stored before the deadline is answered
// 503 with Retry-After, never 200: the elements left are not even started,
// and reported so. What was stored stays stored, and the redelivery the 503
// asks for stores the rest, each order once.
func TestStoreLoopStopsAtItsDeadline(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	receiver := webhookreceiver.New(webhookreceiver.Options{Client: slowWrites{Client: mgrCache, delay: 300 * time.Millisecond},
		APIReader: env.Client, Log: logr.Discard(), Workers: 1})
	srv := httptest.NewServer(receiver.Handler())
	defer srv.Close()

	const n = 30 // 9 s of creates, one at a time, for a 5 s answer
	carts := map[string][]payload.Item{}
	for i := range n {
		carts[fmt.Sprintf("late-%02d", i)] = []payload.Item{item(1, "5", "USD")}
	}
	body := cloudOrders(carts)
	req, err := webhookbody.Sign(body, []byte(appSecret)).Request(ctx, srv.URL+ch.Status.WebhookPath)
	if err != nil {
		t.Fatal(err)
	}
	r := send(t, req)
	var rep struct{ Created, Duplicates, Failed, PastDeadline int }
	if r.code != http.StatusServiceUnavailable || r.retryAfter == "" || json.Unmarshal([]byte(r.body), &rep) != nil {
		t.Fatalf("answer %d, Retry-After %q, %s; want 503 with Retry-After and a report", r.code, r.retryAfter, r.body)
	}
	if rep.PastDeadline == 0 || rep.Created+rep.Failed+rep.PastDeadline != n {
		t.Fatalf("report %+v; want every order accounted for, some past the deadline", rep)
	}
	if got := len(orders(t, ch.Namespace)); got < rep.Created {
		t.Fatalf("%d orders stored, but the answer says %d were created", got, rep.Created)
	}
	created := rep.Created

	again := post(t, ch.Status.WebhookPath, body, appSecret)
	rep = struct{ Created, Duplicates, Failed, PastDeadline int }{}
	if again.code != http.StatusOK || json.Unmarshal([]byte(again.body), &rep) != nil || rep.Created+rep.Duplicates != n || rep.Duplicates < created {
		t.Fatalf("redelivery answered %d %s; want 200, the %d stored before found as duplicates, the rest created", again.code, again.body, created)
	}
	if got := len(orders(t, ch.Namespace)); got != n {
		t.Fatalf("%d orders stored, want %d", got, n)
	}
}
