// Command localrun is what `make run` executes: it runs the manager binary against
// the cluster of the current kubeconfig, or, when none is configured, against a
// local control plane (etcd + kube-apiserver) that it starts, fills with the CRDs
// and stops again on Ctrl-C.
//
//	go run ./hack/localrun -- bin/manager [manager flags...]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
)

// localContext names the context in the kubeconfig written for the local control
// plane. A KUBECONFIG still pointing at it after the control plane stopped means
// "no cluster", so a second `make run` in the same shell starts a new one.
const localContext = "whatsapp-commerce-local"

func main() {
	var opts options
	flag.StringVar(&opts.stateDir, "state-dir", "bin/local", "Where the local control plane keeps its kubeconfig and etcd data.")
	flag.StringVar(&opts.crdDir, "crds", "config/crd/bases", "Directory of the CRD manifests to install.")
	flag.StringVar(&opts.fakeAddr, "demo-fake-api", fakewhatsapp.DemoAddr, "Where the demo's fake WhatsApp API listens (local control plane only).")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: localrun [flags] -- <manager binary> [manager flags...]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts.manager = flag.Args()
	code, err := run(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "localrun:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

type options struct {
	stateDir, crdDir, fakeAddr string
	// manager is the manager binary and its flags.
	manager []string
}

func run(ctx context.Context, opts options) (int, error) {
	kubeconfig, local, cleanup, err := cluster(ctx, opts.stateDir, opts.crdDir)
	if err != nil {
		return 1, err
	}
	defer cleanup()
	if ctx.Err() != nil {
		return 0, nil
	}
	var onStarted func()
	if local {
		// The demo needs the operator running (its channel must turn Ready).
		onStarted = func() {
			stopDemo, err := startDemo(ctx, kubeconfig, opts.stateDir, opts.fakeAddr, flagValue(opts.manager[1:], "webhook-bind-address", operator.DefaultWebhookAddr))
			if err != nil {
				fmt.Fprintln(os.Stderr, "localrun: demo not started:", err)
				return
			}
			go func() { <-ctx.Done(); stopDemo() }()
		}
	}
	return runManager(ctx, kubeconfig, opts.manager, onStarted)
}

// cluster returns the path of a kubeconfig for a cluster with the CRDs installed,
// whether it is a local control plane, and a function that stops what it started.
func cluster(ctx context.Context, stateDir, crdDir string) (string, bool, func(), error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	raw, rawErr := loader.RawConfig()
	cfg, cfgErr := loader.ClientConfig()
	if rawErr == nil && cfgErr == nil && raw.CurrentContext != localContext {
		if err := reachable(cfg); err != nil {
			return "", false, nil, fmt.Errorf("the current kubeconfig context %q does not answer (%w); fix it, or unset KUBECONFIG to start a local control plane", raw.CurrentContext, err)
		}
		fmt.Printf("Using the cluster of kubeconfig context %q.\n", raw.CurrentContext)
		if _, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: []string{crdDir}, ErrorIfPathMissing: true}); err != nil {
			return "", false, nil, fmt.Errorf("installing CRDs: %w", err)
		}
		path := rules.GetDefaultFilename()
		if len(rules.ExplicitPath) > 0 {
			path = rules.ExplicitPath
		}
		return path, false, func() {}, nil
	}
	path, stop, err := startLocal(stateDir, crdDir)
	return path, err == nil, stop, err
}

func reachable(cfg *rest.Config) error {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 5 * time.Second
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	resp, err := client.Get(cfg.Host + "/version")
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func startLocal(stateDir, crdDir string) (string, func(), error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return "", nil, errors.New("KUBEBUILDER_ASSETS is not set: run through `make run`, which builds etcd and kube-apiserver first")
	}
	dataDir, err := filepath.Abs(filepath.Join(stateDir, "etcd"))
	if err != nil {
		return "", nil, err
	}
	fmt.Println("No cluster configured: starting a local control plane (etcd + kube-apiserver)...")
	env, err := startEnv(dataDir, crdDir)
	if err != nil {
		// A data directory left by a crash can keep etcd from starting; the local
		// control plane holds nothing precious, so start afresh rather than fail.
		stale := fmt.Sprintf("%s.stale-%d", dataDir, time.Now().Unix())
		if _, statErr := os.Stat(dataDir); statErr != nil || os.Rename(dataDir, stale) != nil {
			return "", nil, err
		}
		fmt.Printf("The control plane did not start on the existing data (%v); moved it to %s and starting afresh.\n", err, stale)
		if env, err = startEnv(dataDir, crdDir); err != nil {
			return "", nil, err
		}
	}
	stopEnv := func() {
		fmt.Println("Stopping the local control plane...")
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "localrun: stopping the control plane:", err)
		}
	}
	path, err := writeKubeconfig(env, stateDir)
	if err != nil {
		stopEnv()
		return "", nil, err
	}
	fmt.Printf(`
Local control plane ready at %s, CRDs installed.
In another terminal:

    export KUBECONFIG=%s
    kubectl get whatsapp -A

Ctrl-C stops the operator and the control plane.

`, env.Config.Host, path)
	return path, stopEnv, nil
}

func startEnv(dataDir, crdDir string) (*envtest.Environment, error) {
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{crdDir},
		ErrorIfCRDPathMissing: true,
	}
	env.ControlPlane.Etcd = &envtest.Etcd{DataDir: dataDir}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	if _, err := env.Start(); err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("starting the local control plane: %w", err)
	}
	return env, nil
}

func writeKubeconfig(env *envtest.Environment, stateDir string) (string, error) {
	admin, err := env.AddUser(envtest.User{Name: "local-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("creating the local admin user: %w", err)
	}
	cfg := admin.Config()
	kc := clientcmdapi.NewConfig()
	kc.Clusters[localContext] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[localContext] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts[localContext] = &clientcmdapi.Context{Cluster: localContext, AuthInfo: localContext, Namespace: "default"}
	kc.CurrentContext = localContext
	path, err := filepath.Abs(filepath.Join(stateDir, "kubeconfig"))
	if err != nil {
		return "", err
	}
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

// runManager runs the manager until it exits or ctx is cancelled, then stops it
// gracefully and returns its exit code.
func runManager(ctx context.Context, kubeconfig string, manager []string, onStarted func()) (int, error) {
	cmd := exec.Command(manager[0], manager[1:]...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	// The manager must not outlive localrun, even if localrun is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return 1, fmt.Errorf("starting %s: %w", manager[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if onStarted != nil {
		go onStarted()
	}
	select {
	case err := <-done:
		return exitCode(err), err
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		return 0, nil
	}
}

func exitCode(err error) int {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	if err != nil {
		return 1
	}
	return 0
}
