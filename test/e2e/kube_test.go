package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// Names config/default gives the operator's objects.
const (
	systemNamespace = "whatsapp-commerce-system"
	namePrefix      = "whatsapp-commerce-"
	serviceAccount  = namePrefix + "controller-manager"
	// managerUser is the user name the operator's pods authenticate as.
	managerUser = "system:serviceaccount:" + systemNamespace + ":" + serviceAccount
	// image is what config/default's `images:` makes of "controller".
	image = "ghcr.io/whatsapp-commerce-operator/manager:v0.1.0"
)

// repoPath is a path in this repository.
func repoPath(elem ...string) string {
	return filepath.Join(append([]string{testenv.RepoRoot()}, elem...)...)
}

var assets struct {
	once sync.Once
	dir  string
	err  error
}

// kubectlPath is the kubectl built by hack/envtest-assets.sh next to etcd and
// kube-apiserver, in the directory KUBEBUILDER_ASSETS names. When that is unset
// (a plain `go test`), it runs the script and sets it, as testenv.Start would, so
// that the control planes started afterwards use the same binaries.
func kubectlPath(t testing.TB) string {
	t.Helper()
	assets.once.Do(func() {
		dir := os.Getenv("KUBEBUILDER_ASSETS")
		if dir == "" {
			out, err := exec.Command(repoPath("hack", "envtest-assets.sh")).Output()
			if err != nil {
				var exitErr *exec.ExitError
				if errors.As(err, &exitErr) {
					err = fmt.Errorf("%w: %s", err, exitErr.Stderr)
				}
				assets.err = fmt.Errorf("building the envtest binaries with hack/envtest-assets.sh: %w", err)
				return
			}
			dir = strings.TrimSpace(string(out))
			if err := os.Setenv("KUBEBUILDER_ASSETS", dir); err != nil {
				assets.err = err
				return
			}
		}
		assets.dir = dir
	})
	if assets.err != nil {
		t.Fatal(assets.err)
	}
	path := filepath.Join(assets.dir, "kubectl")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no kubectl in KUBEBUILDER_ASSETS (%s): %v; hack/envtest-assets.sh builds it", assets.dir, err)
	}
	return path
}

// kubectl runs kubectl in the repository root, never against the user's own
// cluster: the commands that need a cluster get --kubeconfig from a cluster.
func kubectl(t testing.TB, stdin []byte, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	// Sized for a loaded 2-core machine: a kubectl that waits (apply, delete
	// --wait) shares it with every other test package's control plane.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlPath(t), args...)
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "KUBECONFIG="+os.DevNull)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// mustKubectl runs kubectl and fails the test unless it succeeds.
func mustKubectl(t testing.TB, stdin []byte, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, err := kubectl(t, stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout, stderr
}

// cluster is a control plane of a test's own, with a kubeconfig for kubectl.
type cluster struct {
	env        *testenv.Env
	kubeconfig string
	cacheDir   string
}

// startCluster starts etcd and kube-apiserver (with the CRDs installed, as
// testenv does for every test; applying them again is what an upgrade does) and
// stops them when the test ends.
func startCluster(t *testing.T, opts ...testenv.Option) *cluster {
	t.Helper()
	kubectlPath(t) // sets KUBEBUILDER_ASSETS before testenv looks at it
	env, err := testenv.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Logf("stopping the control plane: %v", err)
		}
	})

	// envtest's admin is a client certificate in system:masters.
	cfg := env.Config
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin", Namespace: "default"}
	kc.CurrentContext = "envtest"
	dir := t.TempDir()
	c := &cluster{env: env, kubeconfig: filepath.Join(dir, "kubeconfig"), cacheDir: filepath.Join(dir, "cache")}
	if err := clientcmd.WriteToFile(*kc, c.kubeconfig); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *cluster) args(args []string) []string {
	return append([]string{"--kubeconfig=" + c.kubeconfig, "--cache-dir=" + c.cacheDir}, args...)
}

// kubectl runs kubectl against the cluster.
func (c *cluster) kubectl(t testing.TB, stdin []byte, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return kubectl(t, stdin, c.args(args)...)
}

// mustKubectl runs kubectl against the cluster and fails the test unless it succeeds.
func (c *cluster) mustKubectl(t testing.TB, stdin []byte, args ...string) (stdout, stderr string) {
	t.Helper()
	return mustKubectl(t, stdin, c.args(args)...)
}

// namespace creates a namespace in the cluster.
func (c *cluster) namespace(t testing.TB, name string) {
	t.Helper()
	c.mustKubectl(t, nil, "create", "namespace", name)
}

// canI asks the API server whether user may do verb on resource, as
// `kubectl auth can-i` does; extra are further can-i flags (-n, -A, --subresource).
func (c *cluster) canI(t testing.TB, user, verb, resource string, extra ...string) bool {
	t.Helper()
	args := append([]string{"auth", "can-i", verb, resource, "--as=" + user}, extra...)
	stdout, stderr, err := c.kubectl(t, nil, args...)
	answer := strings.TrimSpace(stdout)
	switch {
	case answer == "yes" && err == nil:
		return true
	case strings.HasPrefix(answer, "no"):
		return false
	}
	t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout, stderr)
	return false
}

// render runs `kubectl kustomize dir` and returns the YAML and its objects.
func render(t testing.TB, dir string) ([]byte, []*unstructured.Unstructured) {
	t.Helper()
	stdout, stderr := mustKubectl(t, nil, "kustomize", dir)
	if strings.TrimSpace(stderr) != "" {
		t.Errorf("kubectl kustomize %s warned:\n%s", dir, stderr)
	}
	return []byte(stdout), decodeObjects(t, []byte(stdout))
}

// renderOverlay renders an overlay of config/default with the named
// components of config/components, as a user's own kustomization would.
func renderOverlay(t testing.TB, components ...string) ([]byte, []*unstructured.Unstructured) {
	t.Helper()
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, repoPath("config"))
	if err != nil {
		t.Fatal(err)
	}
	rel = filepath.ToSlash(rel)
	overlay := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- " + rel + "/default\ncomponents:\n"
	for _, c := range components {
		overlay += "- " + rel + "/components/" + c + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(overlay), 0o644); err != nil {
		t.Fatal(err)
	}
	return render(t, dir)
}

// decodeObjects parses a multi-document YAML stream.
func decodeObjects(t testing.TB, data []byte) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return objs
		}
		if err != nil {
			t.Fatalf("reading YAML: %v", err)
		}
		js, err := utilyaml.ToJSON(doc)
		if err != nil {
			t.Fatalf("parsing YAML: %v\n%s", err, doc)
		}
		if s := strings.TrimSpace(string(js)); s == "null" || s == "" {
			continue // a comment-only or empty document
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			t.Fatalf("decoding an object: %v\n%s", err, doc)
		}
		objs = append(objs, u)
	}
}

// encodeObjects writes objects as a YAML stream of JSON documents, which kubectl reads.
func encodeObjects(t testing.TB, objs []*unstructured.Unstructured) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, o := range objs {
		js, err := o.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		buf.WriteString("---\n")
		buf.Write(js)
		buf.WriteString("\n")
	}
	return buf.Bytes()
}

// key names an object as "Kind/namespace/name".
func key(o *unstructured.Unstructured) string {
	return o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}

// objects indexes objects by key and fails on duplicates.
type objects map[string]*unstructured.Unstructured

func index(t testing.TB, objs []*unstructured.Unstructured) objects {
	t.Helper()
	idx := objects{}
	for _, o := range objs {
		if _, dup := idx[key(o)]; dup {
			t.Errorf("%s is rendered twice", key(o))
		}
		idx[key(o)] = o
	}
	return idx
}

func (idx objects) keys() []string {
	keys := make([]string, 0, len(idx))
	for k := range idx {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// get returns the object with the key, converted into out, and fails the test if
// there is none.
func (idx objects) get(t testing.TB, k string, out any) {
	t.Helper()
	o, ok := idx[k]
	if !ok {
		t.Fatalf("%s is not rendered; rendered:\n  %s", k, strings.Join(idx.keys(), "\n  "))
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, out); err != nil {
		t.Fatalf("converting %s: %v", k, err)
	}
}

// ofKind returns the objects of a kind, in key order.
func (idx objects) ofKind(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, k := range idx.keys() {
		if idx[k].GetKind() == kind {
			out = append(out, idx[k])
		}
	}
	return out
}

// notContained lists where want is not contained in got: maps key by key (got may
// have more keys, such as the API server's defaults), lists element by element
// (same length), everything else by equality.
func notContained(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %#v", path, got)}
		}
		var diffs []string
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing, want %v", path, k, wv))
				continue
			}
			diffs = append(diffs, notContained(path+"."+k, wv, gv)...)
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, notContained(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return diffs
	default:
		if reflect.DeepEqual(want, got) || fmt.Sprint(want) == fmt.Sprint(got) {
			return nil
		}
		return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
	}
}

// sortedUnique returns the strings sorted, without duplicates.
func sortedUnique(in []string) []string {
	set := map[string]bool{}
	for _, s := range in {
		set[s] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
