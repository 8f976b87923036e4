package operator_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env)) }

// When another replica takes the lease, controller-runtime stops the manager at
// once, without its graceful shutdown; the process exits when Start returns. Start
// must not return while a webhook is still in flight on the receiver: it returns
// only once that request has its answer.
func TestLostLeaseDrainsTheReceiver(t *testing.T) {
	ns := env.Namespace(t)
	addr := testenv.FreeAddr(t)
	op, err := operator.New(env.Config, operator.Options{
		WebhookAddr: addr, LeaderElection: true, LeaderElectionNamespace: ns, WithoutCustomerReconcilers: true,
		// The request below stays in flight by never finishing its body: give
		// it longer than the test takes on a loaded machine.
		WebhookBodyReadTimeout: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- op.Start(ctx) }()
	select {
	case <-op.Elected():
	case err := <-stopped:
		t.Fatalf("the operator stopped before it was elected: %v", err)
	}

	// A webhook whose body is still on its way: a request in flight.
	upload, feed := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/unknown", upload)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 2
	answered := make(chan string, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- "no answer: " + err.Error()
			return
		}
		resp.Body.Close()
		answered <- resp.Status
	}()
	if _, err := feed.Write([]byte("{")); err != nil {
		t.Fatal(err)
	}

	// Another replica takes the lease (the leader renews it meanwhile: retry).
	key := client.ObjectKey{Namespace: ns, Name: operator.LeaderElectionID}
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var lease coordinationv1.Lease
		if err := env.Client.Get(ctx, key, &lease); err != nil {
			return err
		}
		lease.Spec.HolderIdentity = ptr.To("another-replica")
		lease.Spec.AcquireTime = &metav1.MicroTime{Time: time.Now()}
		lease.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
		lease.Spec.LeaseDurationSeconds = ptr.To[int32](3600)
		return env.Client.Update(ctx, &lease)
	}); err != nil {
		t.Fatal(err)
	}

	// The receiver stops taking connections once the manager stops...
	testenv.Eventually(t, time.Minute, "the receiver to stop listening after the lease is lost", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	// ...but Start does not return while the request is in flight.
	testenv.Consistently(t, 500*time.Millisecond, "Start to wait for the request in flight", func() bool {
		select {
		case err := <-stopped:
			stopped <- err
			return false
		default:
			return true
		}
	})
	if _, err := feed.Write([]byte("}")); err != nil {
		t.Fatal(err)
	}
	if got := <-answered; strings.HasPrefix(got, "no answer") {
		t.Fatalf("the request in flight when the lease was lost: %s", got)
	}
	if err := <-stopped; err == nil || !strings.Contains(err.Error(), "leader election lost") {
		t.Fatalf("Start returned %v, want the lost lease", err)
	}
}
