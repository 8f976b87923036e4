package webhookreceiver_test

import (
	"context"
	"fmt"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"io"
	"maps"
	"net"
	"net/http"
	"runtime/metrics"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/httpserver"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
)

// The attack: 84 slow uploads to channel A, 3 declaring the largest
// body and 81 declaring 64 KiB, which together declare all of the body budget
// (3 x 4 MiB leave the 4 MiB the small bodies keep, and 81 x 64 KiB are more
// than that), each sending a byte now and then and starting again as soon as
// it is answered. Meanwhile channel B, of another namespace, gets 20 signed
// orders a second for 30 s. Every one of B's is answered 200, the receiver
// takes under a second for 99% of them, A holds no more than its share of the
// budget, and the heap grows by less than twice the budget.
func TestSlowUploadsToOneTenantLeaveAnotherServed(t *testing.T) {
	const (
		largeUploads = 3
		smallUploads = 81
		rate         = 20 // B's orders per second
		traffic      = 30 * time.Second
		// maxInFlight bounds B's requests in flight: 20/s answered within a
		// second make about 20; more means the receiver is not keeping up.
		maxInFlight = 64
		// share is what one namespace may hold of the default budget.
		share = webhookreceiver.DefaultBodyBudget / 4
	)
	a := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	b := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})

	// A receiver with the operator's defaults, behind the operator's HTTP
	// server (its timeouts are part of what is tested), on loopback. The
	// time B's requests take is measured inside the server, from the
	// handler's start to its end, so that the load generator's own delays on
	// a busy machine are not counted against the receiver.
	receiver := webhookreceiver.New(webhookreceiver.Options{Client: mgrCache, APIReader: env.Client, Log: logr.Discard(), SecretResyncPeriod: operator.DefaultSecretResyncPeriod})
	var served durations
	handler := receiver.Handler()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvCtx, stopServer := context.WithCancel(ctx)
	serverDone := make(chan error, 1)
	go func() {
		serverDone <- httpserver.Serve(srvCtx, httpserver.New(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			start := time.Now()
			handler.ServeHTTP(w, req)
			if req.URL.Path == b.Status.WebhookPath {
				served.add(time.Since(start))
			}
		})), ln)
	}()
	defer func() {
		stopServer()
		if err := <-serverDone; err != nil {
			t.Error(err)
		}
	}()
	base := "http://" + ln.Addr().String()

	baseline := liveHeap()
	var peakHeap, peakHeld float64
	sampled := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
			peakHeap = max(peakHeap, liveHeap())
			peakHeld = max(peakHeld, bodyBytesHeld(t))
		}
	}()

	// A's uploads, until stopAttack: each in its own connection, as many at
	// once as there are uploads, each starting again once answered (at most
	// once a second: refused at once, they would only be a flood of requests,
	// which costs this machine's CPU, not the receiver's budget).
	attacker := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Minute}
	defer attacker.CloseIdleConnections()
	stopAttack := make(chan struct{})
	var attack sync.WaitGroup
	endAttack := sync.OnceFunc(func() { close(stopAttack); attack.Wait() })
	defer endAttack()
	var attacked answers
	for i := range largeUploads + smallUploads {
		size := int64(64 << 10)
		if i < largeUploads {
			size = webhookreceiver.MaxBodyBytes
		}
		attack.Add(1)
		go func() {
			defer attack.Done()
			for {
				next := time.After(time.Second)
				attacked.add(uploadSlowly(attacker, base+a.Status.WebhookPath, size, stopAttack))
				select {
				case <-stopAttack:
					return
				case <-next:
				}
			}
		}()
	}
	eventually(t, "A's uploads to hold A's share of the body budget", func() bool {
		return bodyBytesHeld(t) >= share-64<<10
	})

	// B's orders, open loop: one every 1/rate s whatever the answers do.
	honest := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: maxInFlight}, Timeout: time.Minute}
	defer honest.CloseIdleConnections()
	var sent answers
	var pending sync.WaitGroup
	inFlight := make(chan struct{}, maxInFlight)
	tick := time.NewTicker(time.Second / rate)
	total := int(traffic.Seconds()) * rate
	for i := range total {
		<-tick.C
		select {
		case inFlight <- struct{}{}:
		default:
			t.Fatalf("order %d: %d of B's orders already in flight; the receiver does not keep up", i, maxInFlight)
		}
		body := cloudOrders(map[string][]payload.Item{fmt.Sprintf("fair-%d", i): {item(1, "5", "USD")}})
		req, err := webhookbody.Sign(body, []byte(appSecret)).Request(ctx, base+b.Status.WebhookPath)
		if err != nil {
			t.Fatal(err)
		}
		pending.Add(1)
		go func() {
			defer pending.Done()
			defer func() { <-inFlight }()
			sent.add(exchange(honest, req))
		}()
	}
	tick.Stop()
	pending.Wait()
	close(stopSampling)
	<-sampled

	if codes := sent.codes(); codes[http.StatusOK] != total {
		t.Errorf("B's orders answered %v; want all %d answered 200", codes, total)
	}
	p99 := served.quantile(0.99)
	t.Logf("B: %d orders, receiver time p50 %s, p99 %s, max %s; as B saw it p99 %s, max %s", total,
		served.quantile(0.5), p99, served.quantile(1), sent.took.quantile(0.99), sent.took.quantile(1))
	if p99 >= time.Second {
		t.Errorf("the receiver took %s for the 99th percentile of B's orders; want under 1s", p99)
	}
	if n := len(orders(t, b.Namespace)); n != total {
		t.Errorf("%d of B's orders stored, want %d", n, total)
	}
	// A's bytes held, plus B's few in flight, never went past A's share,
	// and so never near the budget.
	if limit := float64(share + maxInFlight*4<<10); peakHeld > limit {
		t.Errorf("up to %.0f bytes of bodies held; want at most A's share and B's bodies in flight, %.0f", peakHeld, limit)
	}
	// The heap holds, besides the bodies, the informer cache's copies of B's
	// new orders (about 20 MB measured in all); were A's uploads unbounded,
	// they alone would add 17 MiB more.
	growth := peakHeap - baseline
	t.Logf("live heap grew by up to %.0f bytes; body bytes held up to %.0f", growth, peakHeld)
	if growth > 2*webhookreceiver.DefaultBodyBudget {
		t.Errorf("the live heap grew by %.0f bytes, more than twice the body budget", growth)
	}

	endAttack()
	codes := attacked.codes()
	t.Logf("A: %d uploads answered %v, slowest after %s", len(attacked.took.d), codes, attacked.took.quantile(1))
	// (0: the connection closed before the answer was read, as the receiver
	// closes the connection of a body it did not read.)
	if codes[http.StatusOK] > 0 {
		t.Errorf("A's slow uploads answered %v; want none stored", codes)
	}
	if slowest := attacked.took.quantile(1); slowest > 5*time.Second {
		t.Errorf("a slow upload was answered after %s; want within the 5s every request is answered in", slowest)
	}
}

// uploadSlowly posts to url a body declared size bytes long, of which it sends
// a byte every 200 ms until it is answered or stop is closed.
func uploadSlowly(c *http.Client, url string, size int64, stop <-chan struct{}) (int, time.Duration) {
	answered := make(chan struct{})
	defer close(answered)
	body := &trickle{stop: stop, answered: answered}
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		return 0, 0
	}
	req.ContentLength = size
	return exchange(c, req)
}

// trickle is a body that never ends: a byte at first, then one every 200 ms.
type trickle struct {
	stop, answered <-chan struct{}
	started        bool
}

func (tr *trickle) Read(p []byte) (int, error) {
	if tr.started {
		select {
		case <-time.After(200 * time.Millisecond):
		case <-tr.stop:
			return 0, io.ErrUnexpectedEOF
		case <-tr.answered:
			return 0, io.ErrUnexpectedEOF
		}
	}
	tr.started = true
	p[0] = ' '
	return 1, nil
}

// exchange sends req and reads its answer: the status code (0 if there was
// none) and how long it took.
func exchange(c *http.Client, req *http.Request) (int, time.Duration) {
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, time.Since(start)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

// answers are the status codes of requests and how long each took.
type answers struct {
	took durations
	mu   sync.Mutex
	n    map[int]int
}

func (a *answers) add(code int, took time.Duration) {
	a.took.add(took)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil {
		a.n = map[int]int{}
	}
	a.n[code]++
}

func (a *answers) codes() map[int]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.n)
}

type durations struct {
	mu sync.Mutex
	d  []time.Duration
}

func (d *durations) add(x time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.d = append(d.d, x)
}

// quantile is the q-quantile (nearest rank) of the durations; 1 is the largest.
func (d *durations) quantile(q float64) time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.d) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(d.d))
	return s[min(int(q*float64(len(s))), len(s)-1)]
}

// liveHeap is the heap's live bytes as of the last garbage collection.
func liveHeap() float64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return float64(s[0].Value.Uint64())
}

// bodyBytesHeld is the receivers' whatsapp_receiver_body_bytes_held. Only
// this test's receiver gets bodies while it runs.
func bodyBytesHeld(t *testing.T) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Error(err)
		return 0
	}
	for _, f := range families {
		if f.GetName() == "whatsapp_receiver_body_bytes_held" {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Error("no metric whatsapp_receiver_body_bytes_held")
	return 0
}
