package resourcemetrics_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/resourcemetrics"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env)) }

// TestGaugesFollowTheAPIServer runs the gauges on a cache of a real API server,
// as every replica does, and reads them as Prometheus would while orders and
// product messages are created, change status and are deleted, and after the
// cache's watches lapse and it relists.
func TestGaugesFollowTheAPIServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := env.Namespace(t)
	p := &partition{expire: map[string]bool{}, lists: map[string]int{}}
	cfg := rest.CopyConfig(env.Config)
	cfg.Wrap(p.wrap)
	c, err := cache.New(cfg, cache.Options{Scheme: env.Scheme, DefaultNamespaces: map[string]cache.Config{ns: {}}})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	g, err := resourcemetrics.Setup(ctx, c, reg)
	if err != nil {
		t.Fatal(err)
	}
	// Registering again replaces the gauges, as a second manager in one process does.
	if g, err = resourcemetrics.Setup(ctx, c, reg); err != nil {
		t.Fatalf("setting up again: %v", err)
	}
	go func() { _ = c.Start(ctx) }()

	// Before anything exists, the alerts' series are there, at zero.
	want := empty()
	waitFor(t, g, "an empty namespace", want)

	a := createOrder(t, ns, "a", cond("Ready", "False"), cond("Stalled", "True"))
	b := createOrder(t, ns, "b", cond("Ready", "True"))
	createOrder(t, ns, "c") // not reconciled yet
	m := createProductMessage(t, ns, "m", commercev1alpha1.ProductMessageSent, commercev1alpha1.DeliveryRead, 2, 3, usd("40.98"))
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="False",type="Ready"}`] = 1
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="True",type="Ready"}`] = 1
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="True",type="Stalled"}`] = 1
	want[`whatsapp_product_messages{delivery="read",phase="Sent"}`] = 1
	want[`whatsapp_product_message_inquiries`] = 2
	want[`whatsapp_product_message_orders`] = 3
	want[`whatsapp_product_message_revenue{currency="USD"}`] = 40.98
	waitFor(t, g, "three orders and a product message", want)

	// a is reconciled: no longer Stalled, Ready.
	setConditions(t, a, cond("Ready", "True"))
	delete(want, `whatsapp_resource_conditions{kind="WhatsAppOrder",status="False",type="Ready"}`)
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="True",type="Ready"}`] = 2
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="True",type="Stalled"}`] = 0
	waitFor(t, g, "order a reconciled", want)

	if err := env.Client.Delete(ctx, b); err != nil {
		t.Fatal(err)
	}
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="True",type="Ready"}`] = 1
	waitFor(t, g, "order b deleted", want)

	// The cache's watches break, and what changes meanwhile reaches it only by
	// the relist that follows the watch's lapse (410 Expired): a delete, a
	// create and a status change it never saw as events.
	listed := p.cut()
	if err := env.Client.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	createOrder(t, ns, "d", cond("Ready", "False"), cond("Reconciling", "True"))
	m.Status.Orders, m.Status.Revenue = 4, []commercev1alpha1.Revenue{usd("50"), {Currency: "EUR", Total: "12.5"}}
	if err := env.Client.Status().Update(ctx, m); err != nil {
		t.Fatal(err)
	}
	before := gather(t, g)
	testenv.Consistently(t, time.Second, "the gauges, while the watches are cut", func() bool { return gather(t, g).String() == before.String() })
	p.heal()
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="True",type="Ready"}`] = 0
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="False",type="Ready"}`] = 1
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="True",type="Reconciling"}`] = 1
	want[`whatsapp_product_message_orders`] = 4
	want[`whatsapp_product_message_revenue{currency="USD"}`] = 50
	want[`whatsapp_product_message_revenue{currency="EUR"}`] = 12.5
	waitFor(t, g, "the relist", want)
	for _, resource := range []string{"whatsapporders", "productmessages"} {
		if n := p.listed(resource); n <= listed[resource] {
			t.Errorf("%s were listed %d times before the cut and %d times after: the cache did not relist", resource, listed[resource], n)
		}
	}
	// Resyncs and further relists count nothing twice.
	testenv.Consistently(t, 2*time.Second, "the gauges after the relist", func() bool { return gather(t, g).String() == want.String() })
}

// waitFor waits until a scrape of g is want.
func waitFor(t *testing.T, g prometheus.Collector, what string, want series) {
	t.Helper()
	var got series
	deadline := time.Now().Add(30 * time.Second)
	for got = gather(t, g); got.String() != want.String(); got = gather(t, g) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s the gauges are\n%s\nwant\n%s", what, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func createOrder(t *testing.T, ns, name string, conds ...metav1.Condition) *commercev1alpha1.WhatsAppOrder {
	t.Helper()
	o := &commercev1alpha1.WhatsAppOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: commercev1alpha1.WhatsAppOrderSpec{
			Channel: "shop", MessageID: "wamid." + name, ReceivedAt: metav1.Now(), CatalogID: "1",
			Customer: commercev1alpha1.Customer{WaID: "1"},
			Items:    []commercev1alpha1.OrderItem{{ProductRetailerID: "a", Quantity: 1, ItemPrice: "1", Currency: "EUR"}},
		},
	}
	if err := env.Client.Create(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if len(conds) > 0 {
		setConditions(t, o, conds...)
	}
	return o
}

// setConditions makes o's conditions conds, as its reconciler's status write would.
func setConditions(t *testing.T, o *commercev1alpha1.WhatsAppOrder, conds ...metav1.Condition) {
	t.Helper()
	o.Status.Conditions = nil
	for _, c := range conds {
		c.Message = "test"
		meta.SetStatusCondition(&o.Status.Conditions, c)
	}
	if err := env.Client.Status().Update(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

func createProductMessage(t *testing.T, ns, name string, phase commercev1alpha1.ProductMessagePhase, delivery commercev1alpha1.DeliveryStatus, inquiries, orders int32, revenue ...commercev1alpha1.Revenue) *commercev1alpha1.ProductMessage {
	t.Helper()
	m := &commercev1alpha1.ProductMessage{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: commercev1alpha1.ProductMessageSpec{
		Channel: "shop", To: commercev1alpha1.Recipient{WaID: "16505551234"}, CatalogID: "1",
		Product: &commercev1alpha1.SingleProduct{ProductRetailerID: "hat0001"},
	}}
	if err := env.Client.Create(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	m.Status.Phase, m.Status.DeliveryStatus = phase, delivery
	m.Status.Inquiries, m.Status.Orders, m.Status.Revenue = inquiries, orders, revenue
	if err := env.Client.Status().Update(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

// partition stands between a cache and the API server. cut breaks the cache's
// watches and holds the ones it opens again; heal answers those 410 Expired,
// as the API server does a watch from a version it no longer has, so the
// cache relists: what changed in between reaches it only through the relist.
type partition struct {
	mu      sync.Mutex
	cutOff  chan struct{}   // closed by heal; nil while connected
	watches []io.Closer     // the bodies of the watches open
	expire  map[string]bool // paths whose next watch is answered 410
	lists   map[string]int  // lists (and watch-lists) by resource
}

func (p *partition) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		q := req.URL.Query()
		watching := q.Get("watch") == "true" || q.Get("watch") == "1"
		listing := !watching || q.Get("sendInitialEvents") == "true"
		p.mu.Lock()
		gate := p.cutOff
		p.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
		}
		p.mu.Lock()
		if !listing && p.expire[req.URL.Path] {
			delete(p.expire, req.URL.Path)
			p.mu.Unlock()
			return expired(req), nil
		}
		if listing {
			p.lists[path.Base(req.URL.Path)]++
		}
		p.mu.Unlock()
		resp, err := next.RoundTrip(req)
		if err == nil && watching {
			p.mu.Lock()
			// A watch opened as the cut began is cut too.
			p.expire[req.URL.Path] = p.cutOff != nil
			if p.cutOff != nil {
				_ = resp.Body.Close()
			} else {
				p.watches = append(p.watches, resp.Body)
			}
			p.mu.Unlock()
		}
		return resp, err
	})
}

// cut breaks every watch and holds new requests; it returns how many lists
// each resource has had.
func (p *partition) cut() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutOff = make(chan struct{})
	for _, w := range p.watches {
		_ = w.Close()
	}
	p.watches = nil
	for path := range p.expire {
		p.expire[path] = true
	}
	listed := map[string]int{}
	for r, n := range p.lists {
		listed[r] = n
	}
	return listed
}

func (p *partition) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.cutOff)
	p.cutOff = nil
}

func (p *partition) listed(resource string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lists[resource]
}

// expired is the API server's answer to a watch from a resource version it
// has compacted away.
func expired(req *http.Request) *http.Response {
	const event = `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version","reason":"Expired","code":410}}` + "\n"
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(strings.NewReader(event)),
		Request: req,
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
