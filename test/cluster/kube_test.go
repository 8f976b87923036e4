//go:build cluster

package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// What config/default and test/cluster/overlay name.
const (
	systemNamespace = "whatsapp-commerce-system"
	deploymentName  = "whatsapp-commerce-controller-manager"
	receiverService = "whatsapp-commerce-webhook-receiver"
	leaseName       = "whatsapp-commerce-operator.commerce.wa.dev"
	localImage      = "localhost/whatsapp-commerce-operator/manager:dev"
	overlay         = "test/cluster/overlay"
)

// managerPods selects the Deployment's pods.
var managerPods = client.MatchingLabels{"app.kubernetes.io/name": "whatsapp-commerce-operator", "control-plane": "controller-manager"}

var (
	kubeconfig string
	kube       client.Client
)

func TestMain(m *testing.M) {
	kubeconfig = os.Getenv("NODE_KUBECONFIG")
	if kubeconfig == "" || os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "test/cluster needs the local node: run `make test-cluster`, which starts it "+
			"(hack/node/up.sh), builds and loads the image, and sets NODE_KUBECONFIG and KUBEBUILDER_ASSETS")
		os.Exit(1)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err == nil {
		kube, err = client.New(cfg, client.Options{Scheme: operator.NewScheme()})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "client for the node:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// kubectl runs kubectl against the node, from the repository root.
func kubectl(ctx context.Context, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Dir = testenv.RepoRoot()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), nil
}

// mustKubectl runs kubectl and fails the test unless it succeeds.
func mustKubectl(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, err := kubectl(ctx, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var install struct {
	once sync.Once
	err  error
}

// installed installs the overlay with server-side apply, as users install
// config/default, and waits for the rollout; every test starts from there. On a
// failure it prints what a person would look at: the pods, their events and logs.
func installed(t *testing.T) {
	t.Helper()
	install.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if _, install.err = kubectl(ctx, nil, "apply", "--server-side", "-k", overlay); install.err != nil {
			return
		}
		_, install.err = kubectl(ctx, nil, "rollout", "status", "-n", systemNamespace, "deployment/"+deploymentName, "--timeout=4m")
	})
	t.Cleanup(func() {
		if t.Failed() {
			diagnose(t)
		}
	})
	if install.err != nil {
		t.Fatalf("installing %s: %v", overlay, install.err)
	}
}

func diagnose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pods, _ := kubectl(ctx, nil, "get", "pods", "-n", systemNamespace, "-o", "wide")
	events, _ := kubectl(ctx, nil, "get", "events", "-n", systemNamespace, "--sort-by=.lastTimestamp")
	t.Logf("pods:\n%s\nevents:\n%s", pods, tail(events, 30))
	for _, pod := range listPods(t) {
		logs, _ := kubectl(ctx, nil, "logs", "-n", systemNamespace, pod.Name, "--tail=40")
		t.Logf("log of %s:\n%s", pod.Name, logs)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// listPods lists the Deployment's pods that are not being deleted.
func listPods(t testing.TB) []corev1.Pod {
	t.Helper()
	var pods corev1.PodList
	if err := kube.List(context.Background(), &pods, client.InNamespace(systemNamespace), managerPods); err != nil {
		t.Fatalf("listing the manager's pods: %v", err)
	}
	var live []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			live = append(live, p)
		}
	}
	return live
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// namespace creates a namespace for one test and deletes it afterwards.
func namespace(t *testing.T, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := kube.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	t.Cleanup(func() { _ = kube.Delete(context.Background(), ns) })
	return name
}
