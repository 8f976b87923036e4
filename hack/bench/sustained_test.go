package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// An open loop must not wait for answers: every request of the schedule is
// sent while none has been answered yet.
func TestOpenLoopSendsWithoutWaitingForAnswers(t *testing.T) {
	const n = 40
	var started atomic.Int32
	allStarted := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		openLoop(context.Background(), time.Now(), n, 10000, func(int) {
			if started.Add(1) == n {
				close(allStarted)
			}
			<-allStarted // no answer before every request is out
		})
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("openLoop sent %d of %d requests and waited for answers", started.Load(), n)
	}
}

func TestOpenLoopStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var fired atomic.Int32
	openLoop(ctx, time.Now(), 1000, 1, func(int) {
		if fired.Add(1) == 2 {
			cancel()
		}
	})
	if got := fired.Load(); got != 2 {
		t.Errorf("fired %d requests after cancel at the 2nd, want 2", got)
	}
}

func TestSendTimeIsAFixedSchedule(t *testing.T) {
	start := time.Unix(1000, 0)
	for _, tc := range []struct {
		i    int
		want time.Duration
	}{{0, 0}, {1, 10 * time.Millisecond}, {2, 20 * time.Millisecond}, {99, 990 * time.Millisecond}} {
		if got := sendTime(start, tc.i, 100).Sub(start); got != tc.want {
			t.Errorf("request %d at 100/s due after %s, want %s", tc.i, got, tc.want)
		}
	}
}

func TestTrackerNotesEachStepOnce(t *testing.T) {
	tr := newTracker([]string{"a", "b"})
	var validated []int
	tr.onValidated = func(i int) { validated = append(validated, i) }
	order := func(name string, phase commercev1alpha1.OrderPhase, valid metav1.ConditionStatus, n ...commercev1alpha1.OrderNotification) *commercev1alpha1.WhatsAppOrder {
		o := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Name: name}}
		o.Status.Phase = phase
		o.Status.Conditions = []metav1.Condition{{Type: commercev1alpha1.ConditionValidated, Status: valid}}
		o.Status.Notifications = n
		return o
	}
	pending := commercev1alpha1.OrderPhase(commercev1alpha1.OrderPending)
	accepted := commercev1alpha1.OrderNotification{State: commercev1alpha1.OrderAccepted, SentMessage: commercev1alpha1.SentMessage{MessageID: "m1"}}
	tr.observe(order("a", "", metav1.ConditionUnknown))       // not reconciled yet
	tr.observe(order("b", pending, metav1.ConditionFalse))    // not valid
	tr.observe(order("other", pending, metav1.ConditionTrue)) // not the phase's
	tr.observe(order("a", pending, metav1.ConditionTrue))     // validated
	tr.observe(order("a", pending, metav1.ConditionTrue))     // again: no second call
	tr.observe(order("a", commercev1alpha1.OrderPhase(commercev1alpha1.OrderAccepted), metav1.ConditionTrue, accepted))
	accepted.DeliveryStatus = commercev1alpha1.DeliveryDelivered
	tr.observe(order("a", commercev1alpha1.OrderPhase(commercev1alpha1.OrderAccepted), metav1.ConditionTrue, accepted))
	if len(validated) != 1 || validated[0] != 0 || tr.validated[1].Load() != 0 {
		t.Errorf("validated calls %v", validated)
	}
	if got := tr.delivery[0].Load(); got != 2 {
		t.Errorf("delivery rank %d, want delivered's 2", got)
	}
}

func TestSummarizeCountsAnswersByCode(t *testing.T) {
	start := time.Unix(1000, 0)
	as := []answer{
		{sent: start, latency: 3 * time.Millisecond, code: 200},
		{sent: start.Add(time.Second), latency: time.Millisecond, code: 200},
		{sent: start.Add(2 * time.Second), latency: 2 * time.Millisecond, code: 503},
		{sent: start.Add(4 * time.Second), latency: time.Minute, code: codeError},
		{}, // never sent
	}
	s := summarize(as)
	if got, want := s.codesText(), "200: 2, 503: 1, error: 1"; got != want {
		t.Errorf("codes %q, want %q", got, want)
	}
	if s.rate != 0.75 {
		t.Errorf("rate %v, want 3 intervals over 4 s", s.rate)
	}
	if len(s.latencies) != 4 || s.latencies[0] != time.Millisecond || s.latencies[3] != time.Minute {
		t.Errorf("latencies %v, want the four sent, sorted", s.latencies)
	}
	if got := summarize(nil).codesText(); got != "none" {
		t.Errorf("no answers: %q", got)
	}
}

func TestWindowsGroupOrdersByTheirPost(t *testing.T) {
	start := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	ns := func(d time.Duration) int64 { return at(d).UnixNano() }
	r := &loadResult{
		start: start,
		orders: []answer{
			{sent: at(time.Second), latency: 5 * time.Millisecond, code: 200},
			{sent: at(12 * time.Second), latency: 7 * time.Millisecond, code: 200},
			{sent: at(13 * time.Second), latency: 9 * time.Millisecond, code: 200},
		},
		// Order 2 is never validated.
		seen:      []int64{ns(1500 * time.Millisecond), ns(13 * time.Second), ns(14 * time.Second)},
		validated: []int64{ns(2 * time.Second), ns(15 * time.Second), 0},
		told:      []int64{ns(4 * time.Second), 0, 0},
		accepted:  []int64{ns(3 * time.Second), 0, 0},
		// One status per order, posted for order 0 only.
		statuses: []answer{{sent: at(5 * time.Second), latency: 4 * time.Millisecond, code: 200}, {}, {}},
		ratio:    1,
	}
	wins := r.windows()
	if len(wins) != 3 || wins[0].label != "0-10s" || wins[1].label != "10-20s" || wins[2].label != "all" {
		t.Fatalf("windows %+v", wins)
	}
	if w := wins[0]; w.orders != 1 || len(w.validated) != 1 || w.validated[0] != time.Second ||
		len(w.told) != 1 || w.told[0] != time.Second || len(w.statusAnswers) != 1 {
		t.Errorf("first window %+v", w)
	}
	if w := wins[1]; w.orders != 2 || len(w.validated) != 1 || w.validated[0] != 3*time.Second || percentile(w.answers, 99) != 9*time.Millisecond ||
		len(w.seen) != 2 || w.seen[0] != time.Second {
		t.Errorf("second window %+v", w)
	}
	if w := wins[2]; w.orders != 3 || len(w.validated) != 2 || len(w.statusAnswers) != 1 {
		t.Errorf("all %+v", w)
	}
}

func TestProblemsNameWhatAUserWouldCallBroken(t *testing.T) {
	ok := answer{sent: time.Unix(1, 0), code: 200}
	good := &loadResult{
		specs:     make([]commercev1alpha1.WhatsAppOrderSpec, 2),
		orders:    []answer{ok, ok},
		validated: []int64{1, 1},
		statuses:  []answer{ok, ok},
		applied:   2,
	}
	if err := good.problems(); err != nil {
		t.Errorf("a clean phase: %v", err)
	}
	for name, broken := range map[string]func(r *loadResult){
		"503":           func(r *loadResult) { r.orders[1].code = 503 },
		"no answer":     func(r *loadResult) { r.statuses[0].code = codeError },
		"not validated": func(r *loadResult) { r.validated[0] = 0 },
		"not applied":   func(r *loadResult) { r.applied = 1 },
	} {
		r := *good
		r.orders, r.statuses, r.validated = append([]answer(nil), good.orders...), append([]answer(nil), good.statuses...), append([]int64(nil), good.validated...)
		broken(&r)
		if err := r.problems(); err == nil {
			t.Errorf("%s: no problem reported", name)
		}
	}
}

// The status webhooks must be ones the receiver reads as a status of the
// message, on the bench's channel.
func TestStatusBodyIsReadAsAStatus(t *testing.T) {
	at := time.Unix(1750096400, 0)
	m := fakewhatsapp.SentMessage{Generation: whatsapp.Cloud, To: "16505551234", MessageID: "wamid.X==", CallbackData: "wco1|WhatsAppOrder|shop|o|Accepted"}
	d, err := payload.Parse(statusBody(m, commercev1alpha1.DeliveryDelivered, at), payload.Cloud)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Elements) != 1 || d.Elements[0].Kind != payload.KindStatus {
		t.Fatalf("elements %+v, want one status", d.Elements)
	}
	el := d.Elements[0]
	if el.PhoneNumberID != phoneNumberID || el.Status.MessageID != "wamid.X==" || el.Status.Status != "delivered" ||
		el.Status.RecipientID != "16505551234" || !el.Status.Timestamp.Equal(at) || el.Status.CallbackData != m.CallbackData {
		t.Errorf("read back %+v, %+v", el, el.Status)
	}
}

func TestDeliveryRankFollowsTheStatusOrder(t *testing.T) {
	if deliveryRank("") != 0 || deliveryRank(commercev1alpha1.DeliverySent) != 1 || deliveryRank(commercev1alpha1.DeliveryRead) != 3 ||
		deliveryRank(commercev1alpha1.DeliveryFailed) != 0 {
		t.Error("ranks do not follow sent < delivered < read")
	}
}

func TestSustainedFlags(t *testing.T) {
	p, err := parseFlags([]string{"-rate", "50", "-status-ratio", "3"}, io.Discard)
	if err != nil || p.load.rate != 50 || p.load.duration != time.Minute || p.load.statusRatio != 3 || p.load.orders() != 3000 {
		t.Errorf("parsed %+v, %v", p.load, err)
	}
	for _, args := range [][]string{
		{"-rate", "-1"}, {"-rate", "10", "-duration", "0s"}, {"-rate", "10", "-duration", "11m"},
		{"-rate", "10", "-status-ratio", "4"}, {"-rate", "0.5", "-duration", "1s"}, {"-rate", "10", "-drain", "-1s"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

func TestCommandName(t *testing.T) {
	for stat, want := range map[string]string{
		"4242 (kube-apiserver) S 17 4242": "kube-apiserver",
		"4243 (odd (name)) S 17 4243":     "odd (name)",
		"no parentheses":                  "",
	} {
		if got := commandName(stat); got != want {
			t.Errorf("commandName(%q) = %q, want %q", stat, got, want)
		}
	}
}

func TestCountersSince(t *testing.T) {
	d := counters{keyRequests + "PUT": 10, keyRequests + "GET": 4}.since(counters{keyRequests + "PUT": 4, keyRequests + "GET": 4})
	if len(d) != 1 || d[keyRequests+"PUT"] != 6 {
		t.Errorf("since = %v, want only the 6 PUTs", d)
	}
	var out strings.Builder
	writeCounters(&out, counters{keyReconciles + "whatsapporder": 20, keyQueueSum + "whatsapporder": 2, keyQueueCount + "whatsapporder": 20,
		keyWorkSum + "whatsapporder": 1, keyWorkCount + "whatsapporder": 20,
		keyRequests + "PUT": 30, keyConflicts + "PUT": 3}, 10)
	for _, want := range []string{"whatsapporder: 20 reconciles (2.00 per order), average queue wait 100.00ms, average reconcile 50.00ms", "PUT 3.00 (3 conflicts)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("counters printed\n%s\nwant %q", out.String(), want)
		}
	}
}

func TestParseDelaysWantsThemInOrder(t *testing.T) {
	ds, err := parseStatusDelays("1s, 3s,20s")
	if err != nil || len(ds) != 3 || ds[0] != time.Second || ds[2] != 20*time.Second {
		t.Errorf("parsed %v, %v", ds, err)
	}
	for _, bad := range []string{"3s,1s", "-1s", "soon", "1s,,2s", "11m"} {
		if _, err := parseStatusDelays(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestOperatorVariantsAreTheOperatorsSettings(t *testing.T) {
	vs, err := parseOperators("default,record-delay=2s,arrival-order+record-delay=1s")
	want := []operatorVariant{{}, {recordDelay: 2 * time.Second}, {recordDelay: time.Second, arrivalOrder: true}}
	if err != nil || !slices.Equal(vs, want) {
		t.Errorf("parsed %v, %v: want %v", vs, err, want)
	}
	if got := want[2].String(); got != "--record-delay 1s --arrival-order" {
		t.Errorf("shown as %q", got)
	}
	for _, bad := range []string{"record-delay=31s", "record-delay=-1s", "record-delay=soon", "fast", "default,"} {
		if _, err := parseOperators(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestAPIRequestsPerObjectByResourceAndVerb(t *testing.T) {
	metrics := `# TYPE apiserver_request_total counter
apiserver_request_total{code="201",resource="whatsapporders",subresource="",verb="POST"} 10
apiserver_request_total{code="200",resource="whatsapporders",subresource="status",verb="PUT"} 30
apiserver_request_total{code="409",resource="whatsapporders",subresource="status",verb="PUT"} 2
apiserver_request_total{code="201",resource="events",subresource="",verb="POST"} 10
apiserver_request_total{code="200",resource="leases",subresource="",verb="PUT"} 5
apiserver_request_total{code="0",resource="whatsapporders",subresource="",verb="WATCH"} 3
apiserver_request_total{code="200",resource="",subresource="",verb="GET"} 7
`
	before, err := parseAPIRequests(strings.NewReader(`# TYPE apiserver_request_total counter
apiserver_request_total{code="200",resource="leases",subresource="",verb="PUT"} 5
`))
	if err != nil {
		t.Fatal(err)
	}
	after, err := parseAPIRequests(strings.NewReader(metrics))
	if err != nil {
		t.Fatal(err)
	}
	d := after.since(before)
	got := strings.Join(d.perObject(10), "; ")
	if want := "events POST 1.00; whatsapporders POST 1.00; whatsapporders/status PUT 3.20 (2 conflicts)"; got != want {
		t.Errorf("per object %q, want %q (no watches, no idle resources, conflicts counted)", got, want)
	}
	if w := d.writes(""); w != 52 {
		t.Errorf("writes %v, want 52", w)
	}
	if w := d.writes("events"); w != 10 {
		t.Errorf("event writes %v, want 10", w)
	}
}

func TestRedeliveriesCountWhatWhatsAppPostedAgain(t *testing.T) {
	at := time.Unix(1, 0)
	as := []answer{
		{sent: at, code: 200, final: 200},
		{sent: at, code: 503, redelivered: 2, final: 200},
		{sent: at, code: 503, redelivered: 1, final: 503},
		{},
	}
	if refused, posts, never := redeliveries(as); refused != 2 || posts != 3 || never != 1 {
		t.Errorf("refused %d, posts %d, never %d; want 2, 3, 1", refused, posts, never)
	}
}

// A webhook refused with 503 is posted again after its Retry-After, as
// WhatsApp does, until it is taken; the first answer is what is reported.
func TestRedeliverPostsAgainAfterRetryAfter(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if posts.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"created":1}`))
	}))
	defer srv.Close()
	p := &poster{http: srv.Client(), url: srv.URL}
	a := p.redeliver(context.Background(), webhookbody.Sign([]byte(`{}`), []byte("secret")))
	if a.code != http.StatusServiceUnavailable || a.final != http.StatusOK || a.redelivered != 1 || posts.Load() != 2 {
		t.Errorf("first %d, final %d, redelivered %d, posts %d; want 503, 200, 1, 2", a.code, a.final, a.redelivered, posts.Load())
	}
}
