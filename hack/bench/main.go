// Command bench measures how fast the webhook receiver turns WhatsApp order
// webhooks into WhatsAppOrders, next to the fastest the API server takes the
// very same objects: plain creates with a client.
//
// It starts a local control plane (etcd and kube-apiserver, as the tests do)
// and, in this process, the operator as operator.New builds it but without the
// order and inquiry reconcilers: the caches with the receiver's field indexes,
// the channel controller, and the receiver served over real loopback HTTP by
// the receiver's own server. Once a Cloud WhatsAppChannel is Ready, each round runs two phases:
//
//   - direct: N WhatsAppOrders created at concurrency C with a controller-runtime
//     client on the same rest.Config as the manager's, client-side rate limiting
//     off on both (as ctrl.GetConfig leaves it for the operator), with the name,
//     labels and spec the receiver gives the same order;
//   - receiver: N signed single-order Cloud webhooks carrying that cart, POSTed
//     at concurrency C over keep-alive HTTP. Every answer must be 200, and the
//     API server must then hold exactly one order per webhook;
//   - archived: the same as receiver, with the archive on: every order the
//     manager's informer sees is enqueued to the archive's writer, which
//     upserts it into a PostgreSQL on this machine (hack/postgres.sh), as the
//     operator's leader does. After the rounds, the archive must hold exactly
//     one row per order of these phases. The ratio archived/receiver is what
//     archiving costs the receiver.
//
// The baseline runs in the same process, on the same control plane, in the same
// run, because the API server and etcd set the pace: their speed differs from
// machine to machine and run to run, and drops as etcd fills, so the receiver's
// rate means something only next to a direct rate measured alongside it. Rounds
// rotate which phase goes first, so warm-up and drift favor none. The
// ratio receiver/direct is then the cost of what the receiver does besides the
// create (HTTP, signature, parsing, lookups, logging, ...); on a machine it
// shares with the control plane, that includes the CPU of the load generator's
// HTTP client, which Meta pays in production.
//
// A second table says what each phase cost per object: CPU time of this
// process and of the control plane (read from /proc, on Linux) and heap
// allocated by this process. With the control plane on the same cpus,
// throughput is CPU-bound, so the ratio of CPU per object is what the
// throughput ratio tends to; it holds steadier than throughput when other
// processes take cpu time ("others"). -cpuprofile and -memprofile show where
// this process spends it.
//
// With -rate, the bench runs the sustained phase instead (see sustained.go):
// the direct-create ceiling as above, then the whole operator (receiver and
// reconcilers, sending through the fake WhatsApp API) under orders offered
// open loop at -rate per second for -duration, with -status-ratio status
// webhooks per order about the notifications it sends.
//
// Usage:
//
//	make bench BENCHARGS="-n 2000 -c 16"
//	make bench BENCHARGS="-rate 100 -duration 60s"
//	make bench BENCHARGS="-rate 50 -duration 60s -status-ratio 3"
//	KUBEBUILDER_ASSETS=$(hack/envtest-assets.sh) go run ./hack/bench [flags]
//	go run ./hack/bench -cpuprofile cpu.out && go tool pprof -top -cum cpu.out
//
// Progress goes to stderr, the results tables to stdout. The exit status is 1
// when any request fails or the orders stored differ from those sent, and 130
// when interrupted; the control plane is stopped either way.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/httpserver"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
)

// params are the command-line flags.
type params struct {
	n, concurrency, rounds, warmup int
	cpuProfile, memProfile         string
	apiServerProfile               string
	// heapProfiles is where the memory phase saves kube-apiserver's heap
	// profile after each step; bareConditions writes the conditions without
	// their messages and observedGeneration, to measure what those cost.
	heapProfiles   string
	bareConditions bool
	// live are the numbers of live orders the memory phase measures at.
	live []int
	load sustainedParams
}

func parseFlags(args []string, output io.Writer) (params, error) {
	var p params
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.IntVar(&p.n, "n", 2000, "orders per phase: created directly, then sent as webhooks, in each round")
	fs.IntVar(&p.concurrency, "c", 16, "concurrent creates, and concurrent webhook requests")
	fs.IntVar(&p.rounds, "rounds", 3, "rounds of one direct, one receiver and one archived phase; each round starts with the next of them")
	fs.IntVar(&p.warmup, "warmup", 100, "orders of each kind sent before measuring, not counted")
	fs.StringVar(&p.cpuProfile, "cpuprofile", "", "write a CPU profile of this process over the measured rounds to `file` (load generator goroutines carry the pprof label phase=direct|receiver)")
	fs.StringVar(&p.apiServerProfile, "apiserver-cpuprofile", "", "write a CPU profile of kube-apiserver over the sustained phase's -duration to `file` (from its /debug/pprof)")
	fs.StringVar(&p.memProfile, "memprofile", "", "write a heap profile to `file` at the end; its alloc_space counts everything allocated since the start")
	live := fs.String("live", "10000,30000", "comma-separated, increasing numbers of live orders (and ConfigMaps holding the same JSON) at which the memory phase measures kube-apiserver, etcd and operator memory; empty skips it")
	fs.StringVar(&p.heapProfiles, "apiserver-heapprofiles", "", "save kube-apiserver's heap profile after each step of the memory phase in `dir` (compare two with go tool pprof -diff_base)")
	fs.BoolVar(&p.bareConditions, "bare-conditions", false, "in the memory phase, write the orders' conditions without messages and observedGeneration")
	addSustainedFlags(fs, &p.load)
	if err := fs.Parse(args); err != nil {
		return p, err
	}
	for _, f := range strings.Split(*live, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || (len(p.live) > 0 && n <= p.live[len(p.live)-1]) {
			return p, fmt.Errorf("-live %q: want increasing positive numbers", *live)
		}
		p.live = append(p.live, n)
	}
	switch {
	case fs.NArg() > 0:
		return p, fmt.Errorf("unexpected arguments %q", fs.Args())
	case p.n < 1, p.concurrency < 1, p.rounds < 1:
		return p, errors.New("-n, -c and -rounds must be at least 1")
	case p.warmup < 0:
		return p, errors.New("-warmup must not be negative")
	}
	return p, p.load.validate()
}

func main() {
	p, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	con := newConsole(os.Stderr)
	go func() {
		<-ctx.Done()
		// A second Ctrl-C kills at once, leaving the control plane behind.
		stop()
	}()
	if p.load.rate > 0 {
		err = runSustained(ctx, p, os.Stdout, con)
	} else {
		err = run(ctx, p, os.Stdout, con)
	}
	interrupted := ctx.Err() != nil
	stop()
	switch {
	case interrupted:
		con.printf("bench: interrupted")
		os.Exit(130)
	case err != nil:
		con.printf("bench: %v", err)
		os.Exit(1)
	}
}

// run sets everything up, measures, prints the results to out, and tears
// everything down again, whatever happens.
func run(ctx context.Context, p params, out io.Writer, con *console) (err error) {
	// The operator's production logger (JSON, info level), writing nowhere: the
	// receiver pays for its logging as it does in production, and a failure shows
	// in the answer to its request anyway.
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))

	env, stopEnv, err := startControlPlane(con)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopEnv()) }()
	cfg := unthrottled(env.Config)

	con.printf("starting the manager and the receiver")
	op, err := newOperator(cfg)
	if err != nil {
		return err
	}
	// The manager stopping for any reason ends the benchmark.
	ctx, stopMgr := startManager(ctx, op)
	defer func() { err = errors.Join(err, stopMgr()) }()

	url, shutdown, err := serve(op.Receiver.Handler())
	if err != nil {
		return err
	}
	defer shutdown()

	direct, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		return fmt.Errorf("creating the direct client: %w", err)
	}
	ns, err := createNamespace(ctx, direct)
	if err != nil {
		return err
	}
	path, err := createChannel(ctx, direct, op.GetClient(), ns, "")
	if err != nil {
		return err
	}
	con.printf("channel %s/%s is Ready at %s", ns, channelName, path)
	con.printf("starting PostgreSQL and the archive")
	arch, stopArchiving, err := startArchiving(ctx, op)
	if err != nil {
		return err
	}
	defer stopArchiving()
	b := &bench{p: p, ns: ns, direct: direct, http: webhookClient(p.concurrency), url: url + path, con: con, archiving: arch}

	if p.warmup > 0 {
		if err := b.warmUp(ctx); err != nil {
			return err
		}
	}

	stopProfile := func() {}
	if p.cpuProfile != "" {
		if stopProfile, err = startCPUProfile(p.cpuProfile); err != nil {
			return err
		}
	}
	rounds, sent, archived, problems := b.rounds(ctx)
	stopProfile()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if p.memProfile != "" {
		if err := writeHeapProfile(p.memProfile); err != nil {
			return err
		}
	}
	// Checked after all rounds, so that listing the orders burdens no phase.
	for i, specs := range sent {
		if err := b.verify(ctx, fmt.Sprintf("receiver phase %d", i+1), specs); err != nil {
			problems = append(problems, fmt.Errorf("receiver phase %d: %w", i+1, err))
		}
	}
	b.archiving.on.Store(false)
	for r, specs := range archived {
		if err := b.archiving.verify(ctx, specs); err != nil {
			problems = append(problems, fmt.Errorf("round %d, archive: %w", r+1, err))
		} else {
			con.printf("round %d archive check: %d orders, one row each", r+1, len(specs))
		}
	}

	writeHeader(out, p, serverVersion(cfg))
	if err := writeTable(out, rounds); err != nil {
		return err
	}
	fmt.Fprintln(out)
	if err := writeCPUTable(out, rounds, runtime.NumCPU()); err != nil {
		return err
	}
	if len(p.live) > 0 {
		con.printf("memory phase: live orders and ConfigMaps up to %v", p.live)
		steps, err := b.memory(ctx, cfg, p.live)
		if err != nil {
			problems = append(problems, fmt.Errorf("memory phase: %w", err))
		}
		if len(steps) > 1 {
			fmt.Fprintln(out)
			fmt.Fprintln(out, "memory per live object: resident memory and live heap (after a collection) after each step, and what the step added per object it made")
			if err := writeMemoryTable(out, steps); err != nil {
				return err
			}
		}
	}
	return errors.Join(problems...)
}

// unthrottled is cfg with client-side rate limiting off, as ctrl.GetConfig
// leaves it for the operator; envtest's config limits to 1000 QPS instead. The
// manager and the direct client are both built on it, so they are throttled
// alike: not at all.
func unthrottled(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS = -1
	cfg.RateLimiter = nil
	return cfg
}

// newOperator builds the operator as main.go does, with no metrics, probes or
// listener, and without the order and inquiry reconcilers, whose status writes
// would spill from one measured phase into the next.
func newOperator(cfg *rest.Config) (*operator.Operator, error) {
	return operator.New(cfg, operator.Options{WithoutCustomerReconcilers: true})
}

// serve serves handler on a loopback port with the receiver's own server, and
// returns its base URL and a function that shuts it down.
func serve(handler http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listening: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- httpserver.Serve(ctx, httpserver.New(handler), ln) }()
	shutdown := func() {
		cancel()
		<-done
	}
	return "http://" + ln.Addr().String(), shutdown, nil
}

// webhookClient is a keep-alive HTTP client that holds a connection per
// concurrent request.
func webhookClient(concurrency int) *http.Client {
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			MaxIdleConns:        concurrency,
			MaxIdleConnsPerHost: concurrency,
			IdleConnTimeout:     2 * time.Minute,
		},
	}
}

// createChannel creates the channel's Secret and a Cloud channel in ns,
// sending to the WhatsApp API at apiURL (Meta's when empty), and waits until
// the manager's cache, which the receiver reads, holds the channel Ready. It
// returns the channel's webhook path.
func createChannel(ctx context.Context, c client.Client, cache client.Reader, ns, apiURL string) (string, error) {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: secretName}, StringData: map[string]string{
		commercev1alpha1.SecretKeyWebhookToken: webhookToken,
		commercev1alpha1.SecretKeyAppSecret:    appSecret,
		commercev1alpha1.SecretKeyAccessToken:  accessToken,
	}}
	if err := c.Create(ctx, secret); err != nil {
		return "", fmt.Errorf("creating the Secret: %w", err)
	}
	ch := &commercev1alpha1.WhatsAppChannel{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: channelName},
		Spec: commercev1alpha1.WhatsAppChannelSpec{API: commercev1alpha1.APICloud, PhoneNumberID: phoneNumberID, APIURL: apiURL,
			SecretRef: commercev1alpha1.SecretReference{Name: secretName}},
	}
	if err := c.Create(ctx, ch); err != nil {
		return "", fmt.Errorf("creating the channel: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		if err := cache.Get(ctx, client.ObjectKeyFromObject(ch), ch); err == nil &&
			ch.Status.WebhookPath != "" && meta.IsStatusConditionTrue(ch.Status.Conditions, commercev1alpha1.ConditionReady) {
			return ch.Status.WebhookPath, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for the channel to be Ready with a webhook path: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// bench runs the phases.
type bench struct {
	p         params
	ns        string
	direct    client.Client
	http      *http.Client
	url       string
	con       *console
	archiving *archiving
}

// rounds runs the measured rounds and returns them with the orders sent to
// the receiver in each, and those sent with the archive on. Problems (failed requests) do not stop the rounds;
// they are returned to fail the run.
func (b *bench) rounds(ctx context.Context) ([]round, [][]commercev1alpha1.WhatsAppOrderSpec, [][]commercev1alpha1.WhatsAppOrderSpec, []error) {
	var (
		rounds         []round
		sent, archived [][]commercev1alpha1.WhatsAppOrderSpec
		problems       []error
	)
	for r := 1; r <= b.p.rounds; r++ {
		order := phaseOrder(r)
		rd := round{label: fmt.Sprint(r), first: order[0]}
		for _, source := range order {
			specs := orderSpecs(source, r, b.p.n)
			res, err := b.measure(ctx, source, r, specs)
			if ctx.Err() != nil {
				return rounds, sent, archived, problems
			}
			if err != nil {
				problems = append(problems, fmt.Errorf("round %d, %s: %w", r, source, err))
			}
			switch source {
			case sourceDirect:
				rd.direct = res
			case sourceReceiver:
				rd.receiver = res
				sent = append(sent, specs)
			case sourceArchived:
				rd.archived = res
				sent = append(sent, specs)
				archived = append(archived, specs)
			}
		}
		rounds = append(rounds, rd)
	}
	return rounds, sent, archived, problems
}

// warmUp sends p.warmup orders each way, uncounted: connections, caches, the
// secret cache and the API server's paths all warm up before measuring.
func (b *bench) warmUp(ctx context.Context) error {
	for _, source := range []string{sourceDirect, sourceReceiver, sourceArchived} {
		specs := orderSpecs(source, 0, b.p.warmup)
		if _, err := b.measure(ctx, source, 0, specs); err != nil {
			return fmt.Errorf("warm-up, %s: %w", source, err)
		}
		if source != sourceDirect {
			if err := b.verify(ctx, "warm-up receiver", specs); err != nil {
				return fmt.Errorf("warm-up, receiver: %w", err)
			}
		}
	}
	return nil
}

// settle is the pause before each phase, so that what the previous one left
// behind (watch events in flight, the API server's garbage) burdens neither.
const settle = 500 * time.Millisecond

// settleDown collects this process's garbage and waits settle, or until ctx
// ends, before a phase.
func settleDown(ctx context.Context) error {
	runtime.GC()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(settle):
		return nil
	}
}

// measure runs one phase (round 0 is the warm-up) creating the orders of
// specs, directly or through the receiver. Any failed operation makes an error.
func (b *bench) measure(ctx context.Context, source string, round int, specs []commercev1alpha1.WhatsAppOrderSpec) (phaseResult, error) {
	var do op
	if source == sourceDirect {
		objs := make([]*commercev1alpha1.WhatsAppOrder, len(specs))
		for i, spec := range specs {
			objs[i] = orderObject(b.ns, spec)
		}
		do = createOrders(b.direct, objs)
	} else {
		do = postWebhooks(b.http, b.url, signedBodies(specs))
	}
	name := fmt.Sprintf("round %d %s", round, source)
	if round == 0 {
		name = "warm-up " + source
	}
	if err := settleDown(ctx); err != nil {
		return phaseResult{}, err
	}
	// Switched after the settle, so the previous phase's late watch events
	// stay on their side of the switch.
	b.archiving.on.Store(source == sourceArchived)
	var res phaseResult
	pprof.Do(ctx, pprof.Labels("phase", source), func(ctx context.Context) {
		res = runPhase(ctx, len(specs), b.p.concurrency, do, b.con.counter(name, len(specs)))
	})
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	b.con.printf("%-18s %5d in %6.2fs  %7.1f/s  p50 %s  p99 %s  %d failed", name, len(res.latencies), res.elapsed.Seconds(),
		res.rate(), ms(percentile(res.latencies, 50)), ms(percentile(res.latencies, 99)), res.failures)
	for _, e := range res.errors {
		b.con.printf("    %s", e)
	}
	if res.failures > 0 {
		return res, fmt.Errorf("%d of %d requests failed", res.failures, len(specs))
	}
	return res, nil
}

// verify checks that the receiver stored exactly one order for each of specs.
func (b *bench) verify(ctx context.Context, name string, specs []commercev1alpha1.WhatsAppOrderSpec) error {
	err := verifyStored(ctx, b.direct, b.ns, specs)
	if err != nil {
		b.con.printf("%-18s exact-once check failed: %v", name, err)
	} else {
		b.con.printf("%-18s exact-once check: %d orders, one per webhook", name, len(specs))
	}
	return err
}

// startCPUProfile profiles this process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating the CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("starting the CPU profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

// profileAPIServer asks kube-apiserver for a CPU profile of the next d and
// writes it to path when it arrives; wait returns what went wrong. It shows
// where the control plane's CPU goes per request kind, which the operator's
// own profile cannot.
func profileAPIServer(ctx context.Context, cfg *rest.Config, d time.Duration, path string) (wait func() error, err error) {
	apiServer, err := apiServerClient(cfg)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		profile, err := apiServer.Get().AbsPath("/debug/pprof/profile").Param("seconds", strconv.Itoa(int(d.Seconds()))).DoRaw(ctx)
		if err != nil {
			done <- fmt.Errorf("the API server's CPU profile: %w", err)
			return
		}
		done <- os.WriteFile(path, profile, 0o644)
	}()
	return func() error { return <-done }, nil
}

// apiServerClient reaches kube-apiserver's own endpoints (/metrics,
// /debug/pprof) with cfg's credentials and no timeout of its own (a CPU
// profile takes as long as it covers; discovery's client would stop at 32 s).
func apiServerClient(cfg *rest.Config) (rest.Interface, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("a client for the API server's own endpoints: %w", err)
	}
	return cs.CoreV1().RESTClient(), nil
}

// writeHeapProfile writes the heap profile, allocations included, to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating the heap profile: %w", err)
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing the heap profile: %w", err)
	}
	return f.Close()
}

// serverVersion is the API server's version, for the record.
func serverVersion(cfg *rest.Config) string {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return "unknown"
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return "unknown"
	}
	return v.GitVersion
}

// writeHeader prints the parameters and the environment of the run.
func writeHeader(w io.Writer, p params, apiServer string) {
	fmt.Fprintln(w, "WhatsAppOrder creates: direct client vs webhook receiver (single-order Cloud webhooks), the receiver with the archive off and on")
	fmt.Fprintf(w, "orders per phase -n %d, concurrency -c %d, rounds %d, warm-up %d of each (not counted)\n", p.n, p.concurrency, p.rounds, p.warmup)
	fmt.Fprintf(w, "GOMAXPROCS %d (NumCPU %d), %s %s/%s, kube-apiserver %s, client-side rate limit off (QPS -1) on both clients\n",
		runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, apiServer)
	fmt.Fprintln(w)
}
