package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
)

// TestLocalRun is `make run` on a machine with no cluster: it starts the
// control plane and the demo, takes a demo order, stops everything on Ctrl-C,
// runs again on the same data, and survives a broken data directory.
func TestLocalRun(t *testing.T) {
	root := testenv.RepoRoot()
	manager := filepath.Join(t.TempDir(), "manager")
	build := exec.Command("go", "build", "-o", manager, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the manager: %v\n%s", err, out)
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		out, err := exec.Command(filepath.Join(root, "hack", "envtest-assets.sh")).Output()
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("KUBEBUILDER_ASSETS", strings.TrimSpace(string(out)))
	}
	// No cluster configured.
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	stateDir := t.TempDir()

	first := start(t, stateDir, manager, root)
	order := placeDemoOrder(t, first)
	customerOrdersFromTheDemoProductMessage(t, first)
	first.stop(t)

	second := start(t, stateDir, manager, root)
	var o commercev1alpha1.WhatsAppOrder
	if err := second.client.Get(context.Background(), client.ObjectKey{Namespace: demoNamespace, Name: order}, &o); err != nil {
		t.Fatalf("the order placed before the restart is gone: %v", err)
	}
	second.stop(t)

	// Garbage where etcd's database should be: the next run starts afresh.
	db := filepath.Join(stateDir, "etcd", "member", "snap", "db")
	if err := os.WriteFile(db, []byte("not a bolt database"), 0o600); err != nil {
		t.Fatal(err)
	}
	third := start(t, stateDir, manager, root)
	placeDemoOrder(t, third)
	third.stop(t)
	if stale, _ := filepath.Glob(filepath.Join(stateDir, "etcd.stale-*")); len(stale) != 1 {
		t.Fatalf("the broken data directory was not moved aside: %v", stale)
	}
}

type running struct {
	fakeAddr    string
	cancel      context.CancelFunc
	done        chan error
	client      client.Client
	webhookAddr string
	stateDir    string
}

func start(t *testing.T, stateDir, manager, root string) *running {
	t.Helper()
	webhookAddr, fakeAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{fakeAddr: fakeAddr, cancel: cancel, done: make(chan error, 1), webhookAddr: webhookAddr, stateDir: stateDir}
	go func() {
		_, err := run(ctx, options{stateDir: stateDir, crdDir: filepath.Join(root, "config", "crd", "bases"), fakeAddr: fakeAddr,
			manager: []string{manager, "--metrics-bind-address=0", "--health-probe-bind-address=0", "--webhook-bind-address=" + webhookAddr}})
		r.done <- err
	}()
	orderFile := filepath.Join(stateDir, "demo-order.json")
	_ = os.Remove(orderFile)
	waitFor(t, "the demo to be set up", func() bool { _, err := os.Stat(orderFile); return err == nil })
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(stateDir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	if r.client, err = client.New(cfg, client.Options{Scheme: operator.NewScheme()}); err != nil {
		t.Fatal(err)
	}
	return r
}

// stop is Ctrl-C: run must return, and no process it started may be left.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("localrun: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("localrun did not stop")
	}
	if left := processesMentioning(r.stateDir); len(left) > 0 {
		t.Fatalf("processes left behind: %v", left)
	}
	if conn, err := net.Dial("tcp", r.webhookAddr); err == nil {
		conn.Close()
		t.Fatal("the operator still listens after Ctrl-C")
	}
}

// placeDemoOrder posts the demo order as postwebhook would and returns the
// name of the order created.
func placeDemoOrder(t *testing.T, r *running) string {
	t.Helper()
	var ch commercev1alpha1.WhatsAppChannel
	if err := r.client.Get(context.Background(), client.ObjectKey{Namespace: demoNamespace, Name: "shop"}, &ch); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(r.stateDir, "demo-order.json"))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := os.ReadFile(filepath.Join(r.stateDir, "demo-app-secret"))
	if err != nil {
		t.Fatal(err)
	}
	var resp *http.Response
	waitFor(t, "the receiver to take the demo order", func() bool {
		req, err := webhookbody.Sign(body, secret).Request(context.Background(), "http://"+r.webhookAddr+ch.Status.WebhookPath)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err = http.DefaultClient.Do(req); err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	var list commercev1alpha1.WhatsAppOrderList
	if err := r.client.List(context.Background(), &list, client.InNamespace(demoNamespace)); err != nil || len(list.Items) == 0 {
		t.Fatalf("no demo order: %v", err)
	}
	return list.Items[len(list.Items)-1].Name
}

// customerOrdersFromTheDemoProductMessage does what the demo prints: the fake
// plays the customer ordering from the product message, and the message's
// funnel shows the order and its revenue.
func customerOrdersFromTheDemoProductMessage(t *testing.T, r *running) {
	t.Helper()
	var pm commercev1alpha1.ProductMessage
	waitFor(t, "the demo product message to be sent", func() bool {
		var list commercev1alpha1.ProductMessageList
		if err := r.client.List(context.Background(), &list, client.InNamespace(demoNamespace)); err != nil || len(list.Items) == 0 {
			return false
		}
		pm = list.Items[0]
		return pm.Status.Phase == commercev1alpha1.ProductMessageSent
	})
	resp, err := http.Post("http://"+r.fakeAddr+"/_fake/reply?order=di9ozbzfi4:2:7.99:USD,hat0001:1:25:USD", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the fake's customer reply answered %s", resp.Status)
	}
	waitFor(t, "the order in the product message's funnel", func() bool {
		if err := r.client.Get(context.Background(), client.ObjectKeyFromObject(&pm), &pm); err != nil {
			return false
		}
		return pm.Status.Orders == 1 && len(pm.Status.Revenue) == 1 && pm.Status.Revenue[0] == commercev1alpha1.Revenue{Currency: "USD", Total: "40.98"}
	})
}

func processesMentioning(s string) []string {
	var found []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(s)) {
			found = append(found, string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
		}
	}
	return found
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 2*time.Minute, what, cond)
}
