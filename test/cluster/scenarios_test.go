//go:build cluster

package cluster

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// streamFor delivers one order every interval for d, calling disrupt once the
// stream runs, and returns every delivery by message id. Order n comes from the
// customer waID(n), so that each customer has one order.
func streamFor(t *testing.T, s *shop, d, interval time.Duration, disrupt func()) map[string]delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d+3*time.Minute)
	defer cancel()
	stop := make(chan struct{})
	done := make(chan map[string]delivery, 1)
	go func() {
		done <- newSender(s.webhookURL, s.secret).stream(ctx, interval, stop, func(n int, id string) []byte {
			return orderBody(t, id, waID(n))
		})
	}()
	time.Sleep(d / 4)
	disrupt()
	time.Sleep(d * 3 / 4)
	close(stop)
	return <-done
}

func waID(n int) string { return fmt.Sprintf("1555%07d", n) }

// tally is what a sender saw of a stream.
type tally struct {
	webhooks, delivered, attempts int
	failures                      map[string]int // by "reset", "timeout", or HTTP status
	latencies                     []time.Duration
}

func tallyOf(ds map[string]delivery) tally {
	tl := tally{webhooks: len(ds), failures: map[string]int{}}
	for _, d := range ds {
		if d.delivered() {
			tl.delivered++
		}
		for _, a := range d.attempts {
			tl.attempts++
			tl.latencies = append(tl.latencies, a.latency)
			switch {
			case a.failure != "":
				tl.failures[a.failure]++
			case a.status != http.StatusOK:
				tl.failures[fmt.Sprint(a.status)]++
			}
		}
	}
	slices.Sort(tl.latencies)
	return tl
}

func (tl tally) quantile(q float64) time.Duration {
	if len(tl.latencies) == 0 {
		return 0
	}
	return tl.latencies[min(len(tl.latencies)-1, int(q*float64(len(tl.latencies))))]
}

func (tl tally) String() string {
	return fmt.Sprintf("%d webhooks, %d delivered, %d attempts, not 200: %v, answer p50 %s p99 %s max %s",
		tl.webhooks, tl.delivered, tl.attempts, tl.failures, tl.quantile(0.5), tl.quantile(0.99), tl.quantile(1))
}

// exactlyOnce checks that every webhook was delivered and became exactly one
// order: none lost, none duplicated.
func exactlyOnce(t *testing.T, s *shop, ds map[string]delivery) {
	t.Helper()
	stored := orders(t, s.namespace)
	for id, d := range ds {
		if !d.delivered() {
			t.Errorf("webhook %s never answered 200: %+v", id, d.attempts)
		}
		if n := len(stored[id]); n != 1 {
			t.Errorf("webhook %s became %d orders, want 1", id, n)
		}
	}
	if len(stored) != len(ds) {
		t.Errorf("%d distinct orders for %d webhooks", len(stored), len(ds))
	}
}

// acceptAll accepts every Pending order of the namespace, as people would.
func acceptAll(t *testing.T, ns string) {
	t.Helper()
	for _, os := range orders(t, ns) {
		for i := range os {
			if os[i].Spec.State == "" || os[i].Spec.State == commercev1alpha1.OrderPending {
				accept(t, &os[i])
			}
		}
	}
}

// notifiedOnce waits until every order says its customer was notified, then
// checks the WhatsApp API got exactly one message per customer.
func notifiedOnce(t *testing.T, s *shop, ds map[string]delivery) {
	t.Helper()
	testenv.Eventually(t, 3*time.Minute, "every customer to be notified", func() bool {
		for _, os := range orders(t, s.namespace) {
			if !meta.IsStatusConditionTrue(os[0].Status.Conditions, commercev1alpha1.ConditionCustomerNotified) {
				return false
			}
		}
		return true
	})
	perCustomer := map[string]int{}
	for _, m := range s.fake.Sent() {
		perCustomer[m.To]++
	}
	for to, n := range perCustomer {
		if n != 1 {
			t.Errorf("customer %s got %d messages, want 1", to, n)
		}
	}
	if len(perCustomer) != len(ds) {
		t.Errorf("%d customers messaged for %d orders", len(perCustomer), len(ds))
	}
}

func leaseHolder(t *testing.T) (holder string, transitions int32) {
	t.Helper()
	var lease coordinationv1.Lease
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: systemNamespace, Name: leaseName}, &lease); err != nil {
		t.Fatal(err)
	}
	if lease.Spec.HolderIdentity != nil {
		holder = *lease.Spec.HolderIdentity
	}
	if lease.Spec.LeaseTransitions != nil {
		transitions = *lease.Spec.LeaseTransitions
	}
	return holder, transitions
}

// rolledOut waits until the Deployment has two Ready pods again.
func rolledOut(t *testing.T) {
	t.Helper()
	mustKubectl(t, "rollout", "status", "-n", systemNamespace, "deployment/"+deploymentName, "--timeout=3m")
	testenv.Eventually(t, 2*time.Minute, "two Ready pods", func() bool {
		pods := listPods(t)
		return len(pods) == 2 && podReady(pods[0]) && podReady(pods[1])
	})
}

// TestLeaderPodDeleted deletes the leader's pod while orders stream in and are
// accepted: every webhook is delivered once, another replica takes the lease and
// goes on reconciling, and every customer is told exactly once.
func TestLeaderPodDeleted(t *testing.T) {
	installed(t)
	defer rolledOut(t)
	s := newShop(t, "shop-failover")
	var deleted time.Time
	var leader string
	acceptor, stopAcceptor := context.WithCancel(context.Background())
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for acceptor.Err() == nil {
			acceptAll(t, s.namespace)
			time.Sleep(200 * time.Millisecond)
		}
	}()
	ds := streamFor(t, s, 40*time.Second, 100*time.Millisecond, func() {
		holder, _ := leaseHolder(t)
		for _, p := range listPods(t) {
			if len(holder) > len(p.Name) && holder[:len(p.Name)+1] == p.Name+"_" {
				leader, deleted = p.Name, time.Now()
				if err := kube.Delete(context.Background(), &p); err != nil {
					t.Errorf("deleting the leader's pod: %v", err)
				}
			}
		}
	})
	if leader == "" {
		t.Fatal("no pod held the lease")
	}
	var newLeader string
	testenv.Eventually(t, time.Minute, "another replica to take the lease", func() bool {
		holder, _ := leaseHolder(t)
		newLeader = holder
		return holder != "" && !bytes.HasPrefix([]byte(holder), []byte(leader+"_"))
	})
	var lease coordinationv1.Lease
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: systemNamespace, Name: leaseName}, &lease); err != nil {
		t.Fatal(err)
	}
	takeover := lease.Spec.AcquireTime.Sub(deleted)
	t.Logf("the new leader took the lease %s after the deletion (the old one keeps it through its 5 s preStop pause)", takeover.Round(time.Millisecond))
	if lease.Spec.LeaseDurationSeconds == nil || takeover > time.Duration(*lease.Spec.LeaseDurationSeconds+5)*time.Second {
		t.Errorf("the lease changed hands %s after the deletion, more than the lease duration after the preStop pause", takeover)
	}
	stopAcceptor()
	<-accepted
	acceptAll(t, s.namespace)

	tl := tallyOf(ds)
	t.Logf("leader %s deleted a quarter into the stream; lease now held by %s", leader, newLeader)
	t.Logf("senders saw: %s", tl)
	exactlyOnce(t, s, ds)
	notifiedOnce(t, s, ds)
	var firstSend time.Time
	for _, m := range s.fake.Sent() {
		if m.Time.After(deleted) && (firstSend.IsZero() || m.Time.Before(firstSend)) {
			firstSend = m.Time
		}
	}
	t.Logf("first notification after the deletion: %s after it", firstSend.Sub(deleted).Round(time.Millisecond))
	if tl.failures["reset"] != 0 {
		t.Errorf("%d requests were reset", tl.failures["reset"])
	}
}

// TestRolloutRestart restarts the Deployment (`kubectl rollout restart`) while
// orders stream in: every request gets an answer, and every webhook is delivered
// once.
func TestRolloutRestart(t *testing.T) {
	installed(t)
	s := newShop(t, "shop-rollout")
	ds := streamFor(t, s, 60*time.Second, 100*time.Millisecond, func() {
		mustKubectl(t, "rollout", "restart", "-n", systemNamespace, "deployment/"+deploymentName)
	})
	rolledOut(t)
	tl := tallyOf(ds)
	t.Logf("senders saw, through a rollout restart: %s", tl)
	exactlyOnce(t, s, ds)
	for _, kind := range []string{"reset", "timeout"} {
		if tl.failures[kind] != 0 {
			t.Errorf("%d requests got no answer (%s) during the rollout", tl.failures[kind], kind)
		}
	}
	for kind, n := range tl.failures {
		if kind != "503" && kind != "reset" && kind != "timeout" {
			t.Errorf("%d requests failed with %s during the rollout", n, kind)
		}
	}
}

// TestBadBodyFlood sends 200 concurrent 3 MiB bodies with a bad signature while
// customers' orders stream in: no pod restarts (no out-of-memory kill), and the
// orders sent during the flood are answered with p99 under a second more than the
// same stream's p99 without a flood (the machine the tests share sets the latter).
func TestBadBodyFlood(t *testing.T) {
	installed(t)
	s := newShop(t, "shop-flood")
	restartsBefore := restarts(t)
	bad := bytes.Repeat([]byte(" "), 3<<20)
	copy(bad, `{"object":"whatsapp_business_account","entry":[]}`)

	quiet := streamFor(t, s, 12*time.Second, 50*time.Millisecond, func() {})
	baseline := tallyOf(quiet)
	flood := map[string]int{}
	var mu sync.Mutex
	ds := streamFor(t, s, 12*time.Second, 50*time.Millisecond, func() {
		var wg sync.WaitGroup
		for range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := newSender(s.webhookURL, []byte("not the app secret")).post(context.Background(), bad)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case a.status != 0:
					flood[fmt.Sprint(a.status)]++
				case strings.Contains(a.failure, "broken pipe"), a.failure == "reset":
					// Answered 503 before the body was read, then the connection was
					// closed under the rest of the upload.
					flood["closed while uploading"]++
				default:
					flood[a.failure]++
				}
			}()
		}
		wg.Wait()
	})
	tl := tallyOf(ds)
	t.Logf("the 200 bad bodies were answered: %v", flood)
	t.Logf("orders without a flood: %s", baseline)
	t.Logf("orders during the flood: %s", tl)
	maps.Copy(ds, quiet)
	exactlyOnce(t, s, ds)
	if p99, limit := tl.quantile(0.99), baseline.quantile(0.99)+time.Second; p99 >= limit {
		t.Errorf("orders answered with p99 %s during the flood, want under %s (1s more than without it)", p99, limit)
	}
	if after := restarts(t); !maps.Equal(after, restartsBefore) {
		t.Errorf("pods restarted during the flood: %v before, %v after", restartsBefore, after)
	}
	for _, p := range listPods(t) {
		if term := p.Status.ContainerStatuses[0].LastTerminationState.Terminated; term != nil {
			t.Errorf("pod %s's manager was terminated: %s", p.Name, term.Reason)
		}
	}
}

func restarts(t *testing.T) map[string]int32 {
	t.Helper()
	out := map[string]int32{}
	pods := listPods(t)
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	for _, p := range pods {
		out[p.Name] = p.Status.ContainerStatuses[0].RestartCount
	}
	return out
}
