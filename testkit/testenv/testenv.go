// Package testenv starts a real kube-apiserver and etcd (controller-runtime's
// envtest) with the operator's CRDs installed, for integration tests.
//
// The binaries come from hack/envtest-assets.sh, which builds them from the Go
// module proxy once and caches them; `make test` passes their directory in
// KUBEBUILDER_ASSETS, and a plain `go test` runs the script itself.
package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
)

// Env is a running control plane and a client for it.
type Env struct {
	Config *rest.Config
	Client client.Client
	// Scheme is the operator's (operator.NewScheme), which Client uses.
	Scheme *k8sruntime.Scheme
	env    *envtest.Environment
}

// RepoRoot is the root of this repository, for tests that read its files.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Option changes the control plane Start starts.
type Option func(*envtest.Environment)

// WithoutCRDs starts a control plane without the operator's CRDs, for tests of
// an installer that must install them itself.
func WithoutCRDs() Option {
	return func(e *envtest.Environment) { e.CRDDirectoryPaths, e.ErrorIfCRDPathMissing = nil, false }
}

// Start starts etcd and kube-apiserver and installs the CRDs from config/crd/bases.
func Start(opts ...Option) (*Env, error) {
	root := RepoRoot()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		out, err := exec.Command(filepath.Join(root, "hack", "envtest-assets.sh")).Output()
		if err != nil {
			return nil, fmt.Errorf("building the envtest binaries with hack/envtest-assets.sh: %w", err)
		}
		if err := os.Setenv("KUBEBUILDER_ASSETS", strings.TrimSpace(string(out))); err != nil {
			return nil, err
		}
	}
	scheme := operator.NewScheme()
	// envtest waits a fixed 5 s for the default namespace after the API server
	// is up, which a loaded machine can miss: start afresh a few times before
	// calling the control plane broken.
	var env *envtest.Environment
	var cfg *rest.Config
	var err error
	for attempt := 1; ; attempt++ {
		env = &envtest.Environment{
			CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
			ErrorIfCRDPathMissing: true,
			Scheme:                scheme,
			// envtest's 20 s default is too short on a 2-core machine whose other
			// test packages start their own control planes at the same time.
			ControlPlaneStartTimeout: 2 * time.Minute,
			ControlPlaneStopTimeout:  time.Minute,
		}
		for _, o := range opts {
			o(env)
		}
		if cfg, err = env.Start(); err == nil {
			break
		}
		_ = env.Stop()
		if attempt == 3 {
			return nil, fmt.Errorf("starting envtest: %w", err)
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("creating client: %w", err)
	}
	return &Env{Config: cfg, Client: c, Scheme: scheme, env: env}, nil
}

// Stop stops the control plane.
func (e *Env) Stop() error { return e.env.Stop() }

// Run is a TestMain body: it starts the control plane, then each of setup (which
// may return a function to undo it), runs the tests and stops everything.
func Run(m *testing.M, env **Env, setup ...func(*Env) (func(), error)) int {
	e, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*env = e
	var undos []func()
	teardown := func() {
		for i := len(undos) - 1; i >= 0; i-- {
			undos[i]()
		}
	}
	for _, s := range setup {
		undo, err := s(e)
		if err != nil {
			fmt.Fprintln(os.Stderr, "test setup:", err)
			teardown()
			_ = e.Stop()
			return 1
		}
		if undo != nil {
			undos = append(undos, undo)
		}
	}
	code := m.Run()
	teardown()
	if err := e.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping envtest:", err)
	}
	return code
}

// Namespace creates a namespace of its own for one test.
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	if err := e.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	// envtest runs no namespace controller, so deleting only marks it; that is
	// enough to keep tests apart, since each uses a fresh one.
	t.Cleanup(func() { _ = e.Client.Delete(context.Background(), ns) })
	return ns.Name
}

// Eventually polls cond until it holds, failing the test after timeout: what
// the operator does happens asynchronously, through watches and requeues.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// FreeAddr is a loopback address whose port was free a moment ago, for a
// server that takes an address rather than a listener (a binary under test).
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}
