package main

// The sustained phase: orders offered open loop at a fixed rate, as Meta
// delivers them, instead of the rounds' closed loop. A closed loop slows its
// sending to the receiver's pace, so it measures how fast the receiver stores
// orders, never how far the operator falls behind when they keep coming; an
// open loop keeps the rate and shows the backlog as a growing delay between
// the POST and the order turning Validated.
//
// With -status-ratio, the bench also plays the business and WhatsApp's status
// reports: once an order is Validated it accepts it (spec.state Accepted), the
// order controller tells the customer through the fake WhatsApp API, and the
// bench posts the first -status-ratio of sent, delivered and read about that
// very message, each in its own webhook, each -status-delays after the fake
// accepted the send, as WhatsApp spaces them: sent about a second later,
// delivered seconds later, read tens of seconds to minutes later. Each status
// is posted at its time whatever the receiver did with the previous ones
// (open loop).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/callbackdata"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// sourceLoad names the orders of the sustained phase.
const sourceLoad = "load"

// Bounds of the sustained phase's flags: a run must end, and its orders fit
// in memory and in etcd.
const (
	maxRate     = 5000
	maxDuration = 10 * time.Minute
)

// defaultStatusDelays are when WhatsApp reports sent, delivered and read
// after it accepted a message, for a customer who has the phone at hand:
// sent within a second or so, delivered a few seconds later, read tens of
// seconds later (often minutes).
const defaultStatusDelays = "1s,3s,20s"

// quiet is how long the orders must go unchanged, once every request is
// answered, for the phase to end although some status is not shown: it never
// will be.
const quiet = 5 * time.Second

// acceptWorkers bounds the business's concurrent accepts.
const acceptWorkers = 64

// sustainedParams are the flags of the sustained phase.
type sustainedParams struct {
	// rate is orders per second; 0 runs the rounds instead.
	rate        float64
	duration    time.Duration
	statusRatio int
	// statusDelays[j] is when status j is posted, after the send.
	statusDelays []time.Duration
	drain        time.Duration
	// operators are the operators to run, one phase each, in order.
	operators []operatorVariant
}

func addSustainedFlags(fs *flag.FlagSet, p *sustainedParams) {
	fs.Float64Var(&p.rate, "rate", 0, "run the sustained phase instead of the rounds: orders per second, sent open loop (a fixed schedule), after -n direct creates at -c as the baseline")
	fs.DurationVar(&p.duration, "duration", time.Minute, "how long the sustained phase sends orders")
	fs.IntVar(&p.statusRatio, "status-ratio", 0, "status webhooks per order (0-3): the bench accepts each validated order and posts the first N of sent, delivered, read about the notification the operator sends, each in its own webhook")
	p.statusDelays, _ = parseStatusDelays(defaultStatusDelays)
	p.operators = []operatorVariant{{}}
	fs.Func("operators", "comma-separated operators, one sustained phase each, in this order, in one run: \"default\" (main.go's defaults), or settings joined by +: record-delay=DURATION, arrival-order (default \"default\")", func(v string) (err error) {
		p.operators, err = parseOperators(v)
		return err
	})
	fs.Func("status-delays", "comma-separated delays after WhatsApp accepted the notification at which sent, delivered and read are posted (default "+defaultStatusDelays+")", func(v string) (err error) {
		p.statusDelays, err = parseStatusDelays(v)
		return err
	})
	fs.DurationVar(&p.drain, "drain", 2*time.Minute, "how long after the last order the sustained phase waits for validations and statuses")
}

func (p sustainedParams) validate() error {
	switch {
	case p.rate < 0 || p.rate > maxRate:
		return fmt.Errorf("-rate must be between 0 and %d", maxRate)
	case p.rate == 0:
		return nil
	case p.duration <= 0 || p.duration > maxDuration:
		return fmt.Errorf("-duration must be positive and at most %s", maxDuration)
	case p.statusRatio < 0 || p.statusRatio > len(deliveryStatuses):
		return fmt.Errorf("-status-ratio must be between 0 and %d", len(deliveryStatuses))
	case len(p.statusDelays) < p.statusRatio:
		return fmt.Errorf("-status-delays gives %d delays for -status-ratio %d", len(p.statusDelays), p.statusRatio)
	case p.drain < 0:
		return errors.New("-drain must not be negative")
	case p.orders() < 1:
		return errors.New("-rate × -duration is less than one order")
	}
	return nil
}

// parseStatusDelays parses when the statuses are posted: comma-separated
// durations up to maxDuration, increasing, as WhatsApp reports them in order.
func parseStatusDelays(v string) ([]time.Duration, error) {
	var ds []time.Duration
	for f := range strings.SplitSeq(v, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		switch {
		case err != nil:
			return nil, err
		case d < 0 || d > maxDuration:
			return nil, fmt.Errorf("%s is not between 0 and %s", d, maxDuration)
		case len(ds) > 0 && d < ds[len(ds)-1]:
			return nil, fmt.Errorf("delay %s comes before the one ahead of it: statuses are reported in order", d)
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// operatorVariant is how the operator of one sustained phase differs from
// main.go's defaults.
type operatorVariant struct {
	recordDelay  time.Duration
	arrivalOrder bool
}

// String is the variant as the operator's flags.
func (v operatorVariant) String() string {
	var flags []string
	if v.recordDelay > 0 {
		flags = append(flags, "--record-delay "+v.recordDelay.String())
	}
	if v.arrivalOrder {
		flags = append(flags, "--arrival-order")
	}
	if len(flags) == 0 {
		return "the defaults"
	}
	return strings.Join(flags, " ")
}

// parseOperators parses -operators.
func parseOperators(v string) ([]operatorVariant, error) {
	var vs []operatorVariant
	for _, item := range strings.Split(v, ",") {
		var op operatorVariant
		for _, setting := range strings.Split(strings.TrimSpace(item), "+") {
			name, value, _ := strings.Cut(setting, "=")
			switch name {
			case "default":
			case "arrival-order":
				op.arrivalOrder = true
			case "record-delay":
				d, err := time.ParseDuration(value)
				if err != nil || d < 0 || d > operator.MaxRecordDelay {
					return nil, fmt.Errorf("record-delay=%q: want a duration from 0 to %s, the operator's bounds", value, operator.MaxRecordDelay)
				}
				op.recordDelay = d
			default:
				return nil, fmt.Errorf("%q: not an operator setting (default, record-delay=DURATION, arrival-order)", setting)
			}
		}
		vs = append(vs, op)
	}
	return vs, nil
}

// lastDelay is how long after its send the last status of a message is posted.
func (p sustainedParams) lastDelay() time.Duration {
	if p.statusRatio == 0 {
		return 0
	}
	return p.statusDelays[p.statusRatio-1]
}

// orders is how many orders the phase sends.
func (p sustainedParams) orders() int {
	return int(p.rate * p.duration.Seconds())
}

// runSustained measures the direct-create ceiling, then the sustained phase,
// on one control plane with the whole operator running (receiver and
// reconcilers, sending through the fake WhatsApp API), and prints both.
func runSustained(ctx context.Context, p params, out io.Writer, con *console) error {
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	loadBefore := loadAverage()
	var (
		results []variantResult
		version string
		errs    []error
	)
	// Each variant gets a control plane of its own, so that none pays for the
	// objects and the heap another left behind, and its own direct-create
	// baseline, measured on that control plane right before it.
	for v, op := range p.load.operators {
		last := v == len(p.load.operators)-1
		r, err := runVariant(ctx, p, op, last, con)
		if err != nil {
			return err
		}
		version = r.version
		results = append(results, r)
	}
	writeSustainedHeader(out, p, version, loadBefore, loadAverage())
	for v, r := range results {
		fmt.Fprintf(out, "=== the operator with %s, on a control plane of its own ===\n", p.load.operators[v])
		writeIdle(out, r.idle)
		writeCeiling(out, p, r.ceiling, r.ceilingCPU, r.ceilingRequests)
		writePrices(out, r.prices, r.createCPU())
		writeLoadResult(out, p.load, r.load, r.createCPU(), r.prices, r.paced)
		fmt.Fprintln(out)
		errs = append(errs, r.ceilingErr, r.load.problems())
	}
	return errors.Join(errs...)
}

// variantResult is what one variant measured: the idle control plane, its
// direct-create baseline and the sustained phase.
type variantResult struct {
	version         string
	idle            partCPU
	ceiling         phaseResult
	ceilingErr      error
	ceilingCPU      partCPU
	ceilingRequests apiRequests
	prices          []price
	paced           pacedCreates
	load            *loadResult
}

// createCPU is kube-apiserver's CPU per direct create of the baseline.
func (r variantResult) createCPU() time.Duration {
	if !r.ceilingCPU.ok {
		return 0
	}
	return apiServerPer(r.ceilingCPU, len(r.ceiling.latencies))
}

// runVariant starts a control plane, measures it idle and its direct-create
// baseline, then runs one sustained phase against an operator with
// op, and stops it all.
func runVariant(ctx context.Context, p params, op operatorVariant, profile bool, con *console) (r variantResult, err error) {
	env, stopEnv, err := startControlPlane(con)
	if err != nil {
		return r, err
	}
	defer func() { err = errors.Join(err, stopEnv()) }()
	cfg := unthrottled(env.Config)
	r.version = serverVersion(cfg)
	direct, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		return r, fmt.Errorf("creating the direct client: %w", err)
	}
	// The direct creates go to a namespace the operator does not watch.
	directNS, err := createNamespace(ctx, direct)
	if err != nil {
		return r, err
	}
	loadNS, err := createNamespace(ctx, direct)
	if err != nil {
		return r, err
	}
	b := &bench{p: p, ns: directNS, direct: direct, con: con, archiving: &archiving{}}
	if p.warmup > 0 {
		if _, err := b.measure(ctx, sourceDirect, 0, orderSpecs(sourceDirect, 0, p.warmup)); err != nil {
			return r, fmt.Errorf("warm-up: %w", err)
		}
	}
	con.printf("measuring the idle control plane for %s", idleWindow)
	r.idle = idleCPU(idleWindow)
	requestsBefore, err := readAPIRequests(ctx, cfg)
	if err != nil {
		return r, err
	}
	cpuBefore := readPartCPU()
	r.ceiling, r.ceilingErr = b.measure(ctx, sourceDirect, 1, orderSpecs(sourceDirect, 1, p.n))
	r.ceilingCPU = readPartCPU().since(cpuBefore).net(r.idle, r.ceiling.elapsed)
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	requestsAfter, err := readAPIRequests(ctx, cfg)
	if err != nil {
		return r, err
	}
	r.ceilingRequests = requestsAfter.since(requestsBefore)
	if r.prices, err = measurePrices(ctx, direct, directNS, p.concurrency, r.idle, con); err != nil {
		return r, err
	}

	var sends sendHook
	fake := fakewhatsapp.New(fakewhatsapp.Options{AccessToken: accessToken, OnAccepted: sends.call})
	if err := fake.Start(); err != nil {
		return r, err
	}
	defer func() { _ = fake.Close() }()
	con.printf("starting the operator (receiver and reconcilers, %s) on namespace %s", op, loadNS)
	o, err := newLoadOperator(cfg, loadNS, fake.URL(), op)
	if err != nil {
		return r, err
	}
	ctx, stopMgr := startManager(ctx, o)
	defer func() { err = errors.Join(err, stopMgr()) }()
	url, shutdown, err := serve(o.Receiver.Handler())
	if err != nil {
		return r, err
	}
	defer shutdown()
	path, err := createChannel(ctx, direct, o.GetClient(), loadNS, fake.URL())
	if err != nil {
		return r, err
	}
	stopProfile := func() {}
	waitAPIServerProfile := func() error { return nil }
	if profile && p.cpuProfile != "" {
		if stopProfile, err = startCPUProfile(p.cpuProfile); err != nil {
			return r, err
		}
	}
	if profile && p.apiServerProfile != "" {
		if waitAPIServerProfile, err = profileAPIServer(ctx, cfg, p.load.duration, p.apiServerProfile); err != nil {
			return r, err
		}
	}
	ph := newLoadPhase(p.load, direct, &poster{http: openLoopClient(), url: url + path}, loadNS, con)
	sends.set(ph.sent)
	r.load, err = ph.run(ctx, cfg, env.Scheme)
	stopProfile()
	if err = errors.Join(err, waitAPIServerProfile()); err != nil {
		return r, err
	}
	r.load.cpu = r.load.cpu.net(r.idle, r.load.elapsed)
	if writes := r.load.requests.writes(""); writes > 0 {
		r.paced = measurePacedCreates(ctx, direct, directNS, p.n, writes/r.load.elapsed.Seconds(), r.idle, con)
	}
	return r, nil
}

// newLoadOperator builds the whole operator, receiver and reconcilers, as
// main.go does with its defaults but op's, watching only namespace,
// sending only to the fake WhatsApp API at fakeURL, with no metrics, probes or
// listener.
func newLoadOperator(cfg *rest.Config, namespace, fakeURL string, op operatorVariant) (*operator.Operator, error) {
	return operator.New(cfg, operator.Options{Namespaces: []string{namespace}, AllowedAPIURLs: []string{fakeURL + "/"}, RecordDelay: op.recordDelay, ArrivalOrder: op.arrivalOrder})
}

// startControlPlane starts etcd and kube-apiserver; stop stops them.
func startControlPlane(con *console) (*testenv.Env, func() error, error) {
	con.printf("starting the control plane (etcd + kube-apiserver)")
	env, err := testenv.Start()
	if err != nil {
		return nil, nil, err
	}
	return env, func() error {
		con.printf("stopping the control plane")
		if err := env.Stop(); err != nil {
			return fmt.Errorf("stopping the control plane: %w", err)
		}
		return nil
	}, nil
}

// startManager starts mgr in the background. The returned context ends when
// ctx does or the manager stops for any reason; stop stops the manager and
// returns what it failed with.
func startManager(ctx context.Context, mgr ctrl.Manager) (context.Context, func() error) {
	ctx, cancel := context.WithCancel(ctx)
	mgrCtx, stopMgr := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mgrCtx); cancel() }()
	return ctx, func() error {
		stopMgr()
		cancel()
		if err := <-done; err != nil {
			return fmt.Errorf("manager: %w", err)
		}
		return nil
	}
}

// loadAverage is the machine's load average (1, 5, 15 minutes), for the
// record: other processes on a shared machine take cpu time from the run.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// loadPhase is one sustained phase in progress.
type loadPhase struct {
	p      sustainedParams
	direct client.Client
	post   *poster
	ns     string
	con    *console

	specs  []commercev1alpha1.WhatsAppOrderSpec
	bodies []webhookbody.Signed
	tr     *tracker

	// orders[i] is the answer to order i; statuses[i*ratio+j] that to status j
	// about order i's notification.
	orders   []answer
	statuses []answer
	// accepted[i] is when the business's accept of order i returned, told[i]
	// when the fake WhatsApp accepted its notification (Unix ns).
	accepted  []atomic.Int64
	told      []atomic.Int64
	acceptSem chan struct{}
	acceptErr atomic.Int64
	// ctx ends the status webhooks still to post; posting counts those
	// scheduled and not answered yet.
	ctx     context.Context
	posting sync.WaitGroup
	// unposted counts the status webhooks scheduled and not yet posted: the
	// phase is not over while one is due.
	unposted atomic.Int64
}

// sendHook hands the sends the fake WhatsApp accepted to the phase running.
type sendHook struct {
	f atomic.Pointer[func(fakewhatsapp.SentMessage)]
}

func (h *sendHook) set(f func(fakewhatsapp.SentMessage)) { h.f.Store(&f) }

func (h *sendHook) call(m fakewhatsapp.SentMessage) {
	if f := h.f.Load(); f != nil {
		(*f)(m)
	}
}

func newLoadPhase(p sustainedParams, direct client.Client, post *poster, ns string, con *console) *loadPhase {
	n := p.orders()
	ph := &loadPhase{
		p: p, direct: direct, post: post, ns: ns, con: con,
		orders:    make([]answer, n),
		statuses:  make([]answer, n*p.statusRatio),
		accepted:  make([]atomic.Int64, n),
		told:      make([]atomic.Int64, n),
		acceptSem: make(chan struct{}, acceptWorkers),
		ctx:       context.Background(),
	}
	return ph
}

// loadResult is what a sustained phase measured.
type loadResult struct {
	start    time.Time
	elapsed  time.Duration
	specs    []commercev1alpha1.WhatsAppOrderSpec
	orders   []answer
	statuses []answer
	// ratio is the number of statuses posted per order.
	ratio int
	// seen, validated, accepted, told: Unix ns per order, 0 if never.
	seen, validated, accepted, told []int64
	acceptErrors                    int
	cpu                             partCPU
	counters                        counters
	// requests are kube-apiserver's requests served during the phase.
	requests apiRequests
	// stored is the exact-once check of the orders; applied counts the
	// notifications that show the last status posted about them.
	stored  error
	applied int
	// notifiedCount is how many orders had a notification to post statuses on.
	notifiedCount int
}

func (ph *loadPhase) run(ctx context.Context, cfg *rest.Config, scheme *k8sruntime.Scheme) (*loadResult, error) {
	if err := ph.prepare(); err != nil {
		return nil, err
	}
	trackCtx, stopTracking := context.WithCancel(ctx)
	defer stopTracking()
	if err := ph.tr.start(trackCtx, cfg, scheme, ph.ns); err != nil {
		return nil, err
	}
	n := len(ph.specs)
	name := fmt.Sprintf("sustained %.0f/s", ph.p.rate)
	progress := ph.con.counter(name, n)
	ph.con.printf("%s: %d orders over %s, %d status webhooks per order", name, n, ph.p.duration, ph.p.statusRatio)

	// The phase's context ends at the drain deadline: status webhooks still
	// waiting for a message to report on are then not sent.
	deadline := time.Now().Add(ph.p.duration + ph.p.drain + ph.p.lastDelay() + time.Second)
	phaseCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	ph.ctx = phaseCtx

	requestsStart, err := readAPIRequests(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cpuStart, countersStart := readPartCPU(), gatherCounters()
	start := time.Now().Add(10 * time.Millisecond)
	var sending sync.WaitGroup
	var sentOrders atomic.Int64
	sending.Go(func() {
		openLoop(phaseCtx, start, n, ph.p.rate, func(i int) {
			ph.orders[i] = ph.post.redeliver(phaseCtx, ph.bodies[i])
			sentOrders.Add(1)
		})
	})
	finished := make(chan struct{})
	go func() { sending.Wait(); close(finished) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-tick.C:
			progress(int(sentOrders.Load()))
		case <-finished:
			waiting = false
		}
	}
	progress(int(sentOrders.Load()))
	ph.con.printf("%s: every request answered; waiting up to %s for the operator to catch up", name, time.Until(deadline).Round(time.Second))
	for !ph.caughtUp() && phaseCtx.Err() == nil {
		select {
		case <-phaseCtx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Statuses not due yet when the phase ended are not posted: their
	// notification is counted as not showing the last status.
	cancel()
	ph.posting.Wait()
	res := &loadResult{
		start: start, elapsed: time.Since(start), specs: ph.specs, orders: ph.orders, statuses: ph.statuses, ratio: ph.p.statusRatio,
		cpu: readPartCPU().since(cpuStart), counters: gatherCounters().since(countersStart),
		acceptErrors: int(ph.acceptErr.Load()),
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	requestsEnd, err := readAPIRequests(ctx, cfg)
	if err != nil {
		return nil, err
	}
	res.requests = requestsEnd.since(requestsStart)
	stopTracking()
	for i := range ph.specs {
		res.seen = append(res.seen, ph.tr.seen[i].Load())
		res.validated = append(res.validated, ph.tr.validated[i].Load())
		res.accepted = append(res.accepted, ph.accepted[i].Load())
		res.told = append(res.told, ph.told[i].Load())
	}
	// Checked once the clock has stopped, so listing burdens no measurement.
	res.stored = verifyStored(ctx, ph.direct, ph.ns, ph.specs)
	if ph.p.statusRatio > 0 {
		var err error
		if res.applied, res.notifiedCount, err = ph.statusesApplied(ctx); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// prepare builds the orders and their signed bodies before the clock starts,
// and the tracker that times them.
func (ph *loadPhase) prepare() error {
	n := ph.p.orders()
	// Orders arrive now, inside the customer's window: the notification is
	// free-form text, as for nearly every real order.
	received := metav1.NewTime(time.Now().Truncate(time.Second))
	ph.specs = orderSpecs(sourceLoad, 1, n)
	names := make([]string, n)
	for i := range ph.specs {
		ph.specs[i].ReceivedAt = received
		names[i] = commercev1alpha1.ResourceName(ph.specs[i].Channel, ph.specs[i].MessageID)
	}
	ph.bodies = signedBodies(ph.specs)
	ph.tr = newTracker(names)
	if ph.p.statusRatio > 0 {
		ph.tr.onValidated = func(i int) { go ph.accept(names[i], i) }
	}
	return nil
}

// accept is the business accepting order i, as `kubectl patch` would.
func (ph *loadPhase) accept(name string, i int) {
	ph.acceptSem <- struct{}{}
	defer func() { <-ph.acceptSem }()
	obj := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: ph.ns, Name: name}}
	if err := ph.direct.Patch(context.Background(), obj, client.RawPatch(types.MergePatchType, acceptPatch)); err != nil {
		ph.acceptErr.Add(1)
		return
	}
	ph.accepted[i].Store(time.Now().UnixNano())
}

// sent is WhatsApp taking the notification m: its statuses are posted each at
// its delay from now, whatever becomes of the others, as WhatsApp does. Only
// the first send about an order is reported on.
func (ph *loadPhase) sent(m fakewhatsapp.SentMessage) {
	ref, ok := callbackdata.Parse(m.CallbackData)
	if !ok {
		return
	}
	i, ok := ph.tr.index[ref.Name]
	if !ok || !ph.told[i].CompareAndSwap(0, time.Now().UnixNano()) {
		return
	}
	for j, st := range deliveryStatuses[:ph.p.statusRatio] {
		ph.posting.Add(1)
		ph.unposted.Add(1)
		time.AfterFunc(ph.p.statusDelays[j], func() {
			defer ph.posting.Done()
			defer ph.unposted.Add(-1)
			if ph.ctx.Err() != nil {
				return
			}
			body := statusBody(m, st, time.Now())
			ph.statuses[i*ph.p.statusRatio+j] = ph.post.redeliver(ph.ctx, webhookbody.Sign(body, []byte(appSecret)))
		})
	}
}

// statusBody is the Cloud webhook WhatsApp sends to report that the message
// m reached status at, echoing m's callback data as WhatsApp does.
func statusBody(m fakewhatsapp.SentMessage, status commercev1alpha1.DeliveryStatus, at time.Time) []byte {
	return webhookbody.New(whatsapp.Cloud, phoneNumberID).Status(payload.Status{
		MessageID: m.MessageID, RecipientID: m.Customer(), Status: string(status), Timestamp: at, CallbackData: m.CallbackData,
	}).Bytes()
}

// caughtUp reports whether every order is validated and, with statuses, every
// status shown on its message (or the orders have gone quiet: a status lost
// is never shown).
func (ph *loadPhase) caughtUp() bool {
	if ph.unposted.Load() > 0 {
		return false
	}
	shown := true
	for i := range ph.specs {
		if ph.tr.validated[i].Load() == 0 {
			return false
		}
		if ph.p.statusRatio > 0 && int(ph.tr.delivery[i].Load()) < ph.p.statusRatio {
			shown = false
		}
	}
	return shown || time.Since(time.Unix(0, ph.tr.lastChange.Load())) > quiet
}

// statusesApplied lists the phase's orders and counts the notifications whose
// delivery status is the last one posted about them, out of those notified.
func (ph *loadPhase) statusesApplied(ctx context.Context) (applied, notified int, err error) {
	var list commercev1alpha1.WhatsAppOrderList
	if err := ph.direct.List(ctx, &list, client.InNamespace(ph.ns)); err != nil {
		return 0, 0, fmt.Errorf("listing the orders: %w", err)
	}
	want := deliveryStatuses[ph.p.statusRatio-1]
	for i := range list.Items {
		for _, n := range list.Items[i].Status.Notifications {
			if n.State != commercev1alpha1.OrderAccepted || n.MessageID == "" {
				continue
			}
			notified++
			if n.DeliveryStatus == want {
				applied++
			}
		}
	}
	return applied, notified, nil
}

// createNamespace creates a namespace of the bench's own.
func createNamespace(ctx context.Context, c client.Client) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-"}}
	if err := c.Create(ctx, ns); err != nil {
		return "", fmt.Errorf("creating the namespace: %w", err)
	}
	return ns.Name, nil
}
