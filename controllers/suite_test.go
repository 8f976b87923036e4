package controllers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/archive"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/pgtest"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// Every test here runs the real operator (controllers and receiver, restricted
// to the test's namespace) against a real API server and a fake WhatsApp API
// that is a real HTTP server.

var (
	env *testenv.Env
	ctx = context.Background()
)

func TestMain(m *testing.M) {
	logs := io.Discard
	if os.Getenv("TEST_LOGS") != "" {
		logs = os.Stderr
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(logs)))
	os.Exit(testenv.Run(m, &env, func(*testenv.Env) (func(), error) {
		url, undo, err := pgtest.Shared()
		pgServer = url
		return undo, err
	}))
}

// pgServer is the PostgreSQL the archive tests make their databases on.
var pgServer string

const (
	appSecret   = "app-secret-for-tests"
	accessToken = "access-token-for-tests"
)

// world is one test's operator, fake WhatsApp API and channel.
type world struct {
	t        *testing.T
	ns       string
	clock    *clocktesting.FakePassiveClock
	fake     *fakewhatsapp.Server
	receiver *httptest.Server
	channel  *commercev1alpha1.WhatsAppChannel
	// archive is nil but in the archive tests.
	archive *archive.Archive
	stop    func()
	// secretResync is how long the operator uses a Secret it read.
	secretResync time.Duration
	// httpClient, when set, is what the operator sends to WhatsApp with.
	httpClient *http.Client
	// current is the receiver's webhook URL while an operator runs, for the
	// relay; nil between a stop and a start.
	current atomic.Pointer[string]
	// alsoWatch are namespaces the operator watches besides ns.
	alsoWatch []string
	// allow are API URLs the operator may send to besides Meta's and the fake's.
	allow []string
	// recordDelay is the operator's RecordDelay: records are written at once if zero.
	recordDelay time.Duration
	// workers is the operator's MaxConcurrentReconciles; its default if zero.
	workers int
	// timedOut is when (real time) timeOut last moved the clock for an intent.
	timedOut map[string]time.Time
}

func newWorld(t *testing.T, api commercev1alpha1.APIGeneration, customize ...func(*commercev1alpha1.WhatsAppChannelSpec)) *world {
	t.Helper()
	return newWorldWith(t, api, worldOptions{}, customize...)
}

// openWorld is newWorld with the operator archiving to a (nil: no archive).
func openWorld(t *testing.T, api commercev1alpha1.APIGeneration, a *archive.Archive, customize ...func(*commercev1alpha1.WhatsAppChannelSpec)) *world {
	t.Helper()
	return newWorldWith(t, api, worldOptions{archive: a}, customize...)
}

// worldOptions change how a world's parts behave.
type worldOptions struct {
	// autoStatus makes the fake post sent, delivered and read about every
	// send it accepts, through the relay, as WhatsApp does.
	autoStatus bool
	// statusDelay is waited before each auto-posted status.
	statusDelay time.Duration
	// earlyStatuses makes the fake post each send's first status before it
	// answers the send, straight to the receiver, and again every 50 ms while
	// the receiver refuses it (autoStatus posts the others).
	earlyStatuses bool
	// transport wraps the operator's HTTP transport to WhatsApp.
	transport func(http.RoundTripper) http.RoundTripper
	// archive is nil but in the archive tests.
	archive *archive.Archive
	// secretResync is the operator's SecretResyncPeriod; a second if zero.
	secretResync time.Duration
	// alsoWatch are namespaces the operator watches besides the world's.
	alsoWatch []string
	// allow are API URLs the operator may send to besides Meta's and the fake's.
	allow []string
	// recordDelay is the operator's RecordDelay: records are written at once if zero.
	recordDelay time.Duration
	// workers is the operator's MaxConcurrentReconciles; its default if zero.
	workers int
}

func newWorldWith(t *testing.T, api commercev1alpha1.APIGeneration, o worldOptions, customize ...func(*commercev1alpha1.WhatsAppChannelSpec)) *world {
	t.Helper()
	w := &world{t: t, ns: env.Namespace(t), clock: clocktesting.NewFakePassiveClock(time.Now().Truncate(time.Second)), archive: o.archive, secretResync: o.secretResync, alsoWatch: o.alsoWatch, allow: o.allow, recordDelay: o.recordDelay, workers: o.workers,
		timedOut: map[string]time.Time{}}
	if w.secretResync == 0 {
		w.secretResync = time.Second
	}
	fakeOpts := fakewhatsapp.Options{AccessToken: accessToken, PhoneNumberID: "106540352242922"}
	if o.autoStatus {
		fakeOpts.WebhookURL, fakeOpts.AppSecret, fakeOpts.AutoStatus, fakeOpts.StatusDelay = w.relay(), []byte(appSecret), true, o.statusDelay
	}
	if o.earlyStatuses {
		fakeOpts.WebhookURL, fakeOpts.AppSecret, fakeOpts.AutoStatus = w.passOn(), []byte(appSecret), true
		fakeOpts.SentBeforeAnswer, fakeOpts.RedeliveryDelay = true, 50*time.Millisecond
	}
	if o.transport != nil {
		w.httpClient = &http.Client{Timeout: 15 * time.Second, Transport: o.transport(http.DefaultTransport)}
	}
	w.fake = fakewhatsapp.New(fakeOpts)
	if err := w.fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.fake.Close() })
	w.start()
	t.Cleanup(func() { w.stop() })

	w.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "wa"}, StringData: map[string]string{
		commercev1alpha1.SecretKeyWebhookToken: "a-long-random-webhook-token", commercev1alpha1.SecretKeyAppSecret: appSecret, commercev1alpha1.SecretKeyAccessToken: accessToken,
	}})
	ch := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "shop"}, Spec: commercev1alpha1.WhatsAppChannelSpec{
		API: api, APIURL: w.fake.URL(), SecretRef: commercev1alpha1.SecretReference{Name: "wa"},
	}}
	if api == commercev1alpha1.APICloud {
		ch.Spec.PhoneNumberID = "106540352242922"
	}
	for _, c := range customize {
		c(&ch.Spec)
	}
	w.create(ch)
	w.eventually("the channel to be Ready", func() bool {
		_ = env.Client.Get(ctx, client.ObjectKeyFromObject(ch), ch)
		return meta.IsStatusConditionTrue(ch.Status.Conditions, commercev1alpha1.ConditionReady) && ch.Status.WebhookPath != ""
	})
	w.channel = ch
	url := w.webhookURL()
	w.current.Store(&url)
	// The receiver looks channels up in its own cache: wait until it knows this
	// one (a bare GET is then refused as a bad handshake, not 404 or 503).
	w.eventually("the receiver to serve the channel", func() bool {
		resp, err := http.Get(w.webhookURL())
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusBadRequest
	})
	return w
}

// start runs the operator, as main.go wires it, watching only this namespace.
func (w *world) start() {
	w.t.Helper()
	op, err := operator.New(env.Config, operator.Options{Namespaces: append([]string{w.ns}, w.alsoWatch...), Clock: w.clock, SecretResyncPeriod: w.secretResync,
		Archive: w.archive, ArchiveRecheck: 100 * time.Millisecond, HTTPClient: w.httpClient, RecordDelay: w.recordDelay, MaxConcurrentReconciles: w.workers, AllowedAPIURLs: slices.Concat(whatsapp.DefaultAllowedURLs, []string{w.fake.URL() + "/"}, w.allow)})
	must(w.t, err)
	w.receiver = httptest.NewServer(op.Receiver.Handler())
	if w.channel != nil {
		url := w.webhookURL()
		w.current.Store(&url)
	}
	mgrCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- op.Start(mgrCtx) }()
	// The receiver's field indexes made informers for channels, orders and
	// inquiries, so once they sync the receiver knows existing channels.
	if !op.GetCache().WaitForCacheSync(mgrCtx) {
		w.t.Fatal("caches did not sync")
	}
	w.stop = func() {
		w.current.Store(nil)
		w.receiver.Close()
		cancel()
		if err := <-done; err != nil {
			w.t.Errorf("manager: %v", err)
		}
	}
}

// restart stops the operator and starts a new one, as a rollout or crash would.
func (w *world) restart() {
	w.stop()
	w.start()
}

func (w *world) webhookURL() string { return w.receiver.URL + w.channel.Status.WebhookPath }

func (w *world) create(obj client.Object) {
	w.t.Helper()
	if err := env.Client.Create(ctx, obj); err != nil {
		w.t.Fatalf("creating %T: %v", obj, err)
	}
}

func (w *world) eventually(what string, cond func() bool) {
	w.t.Helper()
	testenv.Eventually(w.t, 20*time.Second, what, cond)
}

// touch makes the controllers look at obj again, as a RequeueAfter firing would
// once the fake clock has been moved forward.
func (w *world) touch(obj client.Object) {
	w.t.Helper()
	patch := []byte(`{"metadata":{"annotations":{"test/touched":"` + time.Now().Format(time.RFC3339Nano) + `"}}}`)
	if err := env.Client.Patch(ctx, obj, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		w.t.Fatal(err)
	}
}

// events are the Events about obj.
func (w *world) events(obj client.Object) []eventsv1.Event {
	var list eventsv1.EventList
	must(w.t, env.Client.List(ctx, &list, client.InNamespace(w.ns)))
	var about []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.UID == obj.GetUID() {
			about = append(about, e)
		}
	}
	return about
}

func (w *world) hasEvent(obj client.Object, eventType, reason string) bool {
	var list eventsv1.EventList
	_ = env.Client.List(ctx, &list, client.InNamespace(w.ns))
	for _, e := range list.Items {
		if e.Regarding.Name == obj.GetName() && e.Type == eventType && e.Reason == reason {
			return true
		}
	}
	return false
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// relay is where the fake WhatsApp API posts statuses on its own: it passes
// each to the running operator's receiver and, like Meta, delivers it again
// until the receiver answers 200, also across a restart of the operator.
func (w *world) relay() string {
	w.t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if url := w.current.Load(); url != nil {
				req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, *url, bytes.NewReader(body))
				req.Header = r.Header.Clone()
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						return
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		http.Error(rw, "no receiver answered 200", http.StatusBadGateway)
	}))
	w.t.Cleanup(srv.Close)
	return srv.URL
}

// passOn is where the fake posts statuses that it delivers again itself: it
// passes each once to the running operator's receiver, and answers as the
// receiver did (503 while no operator runs).
func (w *world) passOn() string {
	w.t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		url := w.current.Load()
		if url == nil {
			http.Error(rw, "no operator runs", http.StatusServiceUnavailable)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, *url, r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		rw.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(rw, resp.Body)
	}))
	w.t.Cleanup(srv.Close)
	return srv.URL
}

// waitNotifications waits until o has n notifications, none an intent still
// pending. A restart can stop the operator after it recorded an intent but
// before its send reached WhatsApp; no status will ever come for it, so, as
// time would, the test moves the clock past the intent timeout and the operator
// sends it. An intent whose send did reach the fake is left to its status.
func (w *world) waitNotifications(o *commercev1alpha1.WhatsAppOrder, n int) {
	w.t.Helper()
	w.eventually(fmt.Sprintf("%d notifications recorded", n), func() bool {
		_ = env.Client.Get(ctx, client.ObjectKeyFromObject(o), o)
		pending := false
		for _, m := range o.Status.Notifications {
			if !m.Pending() {
				continue
			}
			pending = true
			if !w.fakeGot(m.CallbackData) {
				w.timeOut(o, m.SentMessage)
			}
		}
		return !pending && len(o.Status.Notifications) == n
	})
}

// timeOut moves the clock past the intent timeout of obj's pending intent
// m, as time would for a send WhatsApp did not take (no status will come),
// and wakes obj. The operator counts the timeout from the later of sentAt and
// when it first saw the intent, so the clock moves a timeout past the later
// of sentAt and now. An operator that first sees the intent after the move
// (one started meanwhile) needs another: the same intent is timed out again
// only a few seconds later, so that polling does not race the clock through
// the customer's 24-hour window.
func (w *world) timeOut(obj client.Object, m commercev1alpha1.SentMessage) {
	if !m.Pending() {
		return
	}
	key := m.CallbackData + "@" + m.SentAt.String()
	if last, ok := w.timedOut[key]; ok && time.Since(last) < 3*time.Second {
		return
	}
	from := w.clock.Now()
	if m.SentAt != nil && m.SentAt.After(from) {
		from = m.SentAt.Time
	}
	w.clock.SetTime(from.Add(operator.DefaultIntentTimeout))
	w.timedOut[key] = time.Now()
	w.touch(obj)
}

// fakeGot reports whether the fake accepted a send with callback data cb.
func (w *world) fakeGot(cb string) bool {
	for _, m := range w.fake.Sent() {
		if m.CallbackData == cb {
			return true
		}
	}
	return false
}
