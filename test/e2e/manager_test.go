package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// TestManagerRunsAsItsServiceAccount runs the manager binary with the Deployment's
// arguments and the credentials its pods get (a token of the operator's
// ServiceAccount, bound to the installed RBAC), as a pod of the Deployment would:
// a channel from the samples becomes Ready, the receiver answers Meta's handshake
// with the channel's secrets, metrics are served, and nothing is forbidden.
func TestManagerRunsAsItsServiceAccount(t *testing.T) {
	t.Parallel()
	_, objs := render(t, "config/default")
	var dep appsv1.Deployment
	index(t, objs).get(t, deploymentKey, &dep)
	manager := buildManager(t)
	c := startCluster(t)
	c.mustKubectl(t, nil, "apply", "--server-side", "-k", "config/default")

	// The pod's identity: a token of the ServiceAccount, as the kubelet mounts it.
	token, _ := c.mustKubectl(t, nil, "create", "token", dep.Spec.Template.Spec.ServiceAccountName, "-n", systemNamespace, "--duration=1h")
	kubeconfig := writeTokenKubeconfig(t, c, strings.TrimSpace(token))

	// The Deployment's arguments, with free local addresses for the three listeners.
	// --leader-elect is dropped: out of a cluster the manager cannot tell its
	// namespace, which is where the lease goes (the lease permissions are checked
	// by TestInstalledPermissions).
	addrs := map[string]string{}
	var args []string
	for _, arg := range dep.Spec.Template.Spec.Containers[0].Args {
		name, _, _ := strings.Cut(arg, "=")
		switch name {
		case "--leader-elect":
			continue
		case "--metrics-bind-address", "--health-probe-bind-address", "--webhook-bind-address":
			addrs[name] = testenv.FreeAddr(t)
			arg = name + "=" + addrs[name]
		}
		args = append(args, arg)
	}
	if len(addrs) != 3 {
		t.Fatalf("the Deployment's args %v do not set the three bind addresses", dep.Spec.Template.Spec.Containers[0].Args)
	}
	logs := runManager(t, manager, kubeconfig, args)

	waitHTTP(t, "http://"+addrs["--health-probe-bind-address"]+"/readyz", http.StatusOK)

	c.namespace(t, "shop")
	c.mustKubectl(t, nil, "apply", "--server-side", "-n", "shop",
		"-f", "config/samples/v1_secret_shop.yaml", "-f", "config/samples/commerce_v1alpha1_whatsappchannel.yaml")
	if _, _, err := c.kubectl(t, nil, "wait", "-n", "shop", "--for=condition=Ready", "--timeout=2m", "whatsappchannel/shop"); err != nil {
		status, _, _ := c.kubectl(t, nil, "get", "-n", "shop", "whatsappchannel/shop", "-o", "jsonpath={.status}")
		t.Fatalf("the sample channel did not become Ready: %v\nstatus: %s\nmanager log:\n%s", err, status, logs.head(40))
	}

	// The receiver reads the channel's secrets by name: the handshake succeeds with
	// the sample's verifyToken.
	path, _ := c.mustKubectl(t, nil, "get", "-n", "shop", "whatsappchannel/shop", "-o", "jsonpath={.status.webhookPath}")
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"change-me-verify-token"}, "hub.challenge": {"1158201444"}}
	body := waitHTTP(t, "http://"+addrs["--webhook-bind-address"]+path+"?"+q.Encode(), http.StatusOK)
	if body != "1158201444" {
		t.Errorf("the verification handshake answered %q, want the challenge", body)
	}
	if metrics := waitHTTP(t, "http://"+addrs["--metrics-bind-address"]+"/metrics", http.StatusOK); !strings.Contains(metrics, "controller_runtime_reconcile_total") {
		t.Errorf("/metrics serves no controller-runtime metrics")
	}

	// The channel's readiness was recorded as an Event (events.k8s.io).
	var reasons []string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, _ := c.mustKubectl(t, nil, "get", "events.events.k8s.io", "-n", "shop", "-o", "json")
		var list struct {
			Items []struct {
				Reason    string `json:"reason"`
				Regarding struct{ Kind, Name string }
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatal(err)
		}
		reasons = reasons[:0]
		for _, e := range list.Items {
			if e.Regarding.Kind == "WhatsAppChannel" && e.Regarding.Name == "shop" {
				reasons = append(reasons, e.Reason)
			}
		}
		if len(reasons) > 0 {
			break
		}
	}
	if len(reasons) == 0 {
		t.Errorf("no Event about the channel was recorded\nmanager log:\n%s", logs.head(40))
	}

	var forbidden []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(strings.ToLower(line), "forbidden") {
			forbidden = append(forbidden, line)
		}
	}
	if len(forbidden) > 0 {
		t.Errorf("the manager was refused something its ServiceAccount needs (a +kubebuilder:rbac marker missing?):\n%s", strings.Join(forbidden, "\n"))
	}
}

// buildManager builds the manager binary (`go build .`).
func buildManager(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "manager")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = testenv.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// writeTokenKubeconfig writes a kubeconfig that authenticates with a bearer token.
func writeTokenKubeconfig(t *testing.T, c *cluster, token string) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: c.env.Config.Host, CertificateAuthorityData: c.env.Config.CAData}
	kc.AuthInfos["manager"] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts["manager"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "manager"}
	kc.CurrentContext = "manager"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// logBuffer collects a process's output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// head is the first n lines.
func (b *logBuffer) head(n int) string {
	lines := strings.SplitN(b.String(), "\n", n+1)
	if len(lines) > n {
		lines[n] = "..."
	}
	return strings.Join(lines, "\n")
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runManager starts the manager and stops it (SIGTERM, as the kubelet does) when
// the test ends; it fails the test if the manager exits early or not cleanly.
func runManager(t *testing.T, bin, kubeconfig string, args []string) *logBuffer {
	t.Helper()
	logs := &logBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the manager did not stop cleanly on SIGTERM: %v\n%s", err, logs)
			}
		case <-time.After(30 * time.Second): // terminationGracePeriodSeconds
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("the manager did not stop within 30s of SIGTERM\n%s", logs)
		}
	})
	// Fail fast if it exits at once (a flag it does not know, say).
	select {
	case err := <-done:
		done <- err
		t.Fatalf("the manager exited at once (%v):\n%s", err, logs)
	case <-time.After(500 * time.Millisecond):
	}
	return logs
}

// waitHTTP polls url until it answers with the status, and returns the body.
func waitHTTP(t *testing.T, url string, status int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == status {
				return string(body)
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("GET %s: %s; want %d", url, last, status)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
