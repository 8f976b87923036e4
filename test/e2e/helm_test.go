package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// The Helm chart must install what config/default installs. These tests render
// both and compare them object by object, and run a real Helm (built from the
// module proxy by hack/tools.sh) against a real API server.

const (
	chartDir    = "charts/whatsapp-commerce-operator"
	releaseName = "whatsapp-commerce"
)

// helmLabels are the labels Helm charts conventionally add, which config/default
// has no reason to carry.
var helmLabels = []string{"helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "app.kubernetes.io/version"}

// helm runs helm in the repository root with a configuration and cache of the
// test's own, never the user's.
func helm(t testing.TB, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Tool(t, "helm"), args...)
	cmd.Dir = testenv.RepoRoot()
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "KUBECONFIG="+os.DevNull, "HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func mustHelm(t testing.TB, args ...string) string {
	t.Helper()
	stdout, stderr, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}

// helmTemplate renders the chart as `helm install` would into the operator's
// namespace, CRDs included, with Helm's labels removed.
func helmTemplate(t testing.TB, set ...string) objects {
	t.Helper()
	args := []string{"template", releaseName, chartDir, "--namespace", systemNamespace, "--include-crds"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	objs := decodeObjects(t, []byte(mustHelm(t, args...)))
	for _, o := range objs {
		labels := o.GetLabels()
		for _, l := range helmLabels {
			if _, ok := labels[l]; !ok && o.GetKind() != "CustomResourceDefinition" {
				t.Errorf("%s: the chart does not label it %s", key(o), l)
			}
			delete(labels, l)
		}
		o.SetLabels(labels)
	}
	return index(t, objs)
}

// sameObjects reports every difference between what kustomize and Helm render.
func sameObjects(t *testing.T, kustomize, chart objects) {
	t.Helper()
	if got, want := chart.keys(), kustomize.keys(); !reflect.DeepEqual(got, want) {
		t.Fatalf("the chart renders\n  %s\nconfig/default renders\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for k, want := range kustomize {
		got := chart[k]
		if want.GetKind() == "CustomResourceDefinition" {
			// Helm installs crds/ as they are, untemplated: the files of
			// config/crd/bases, without the labels and annotations that
			// config/crd adds to keep GitOps tools from pruning them (Helm never
			// deletes a CRD anyway). Everything else must be equal.
			want = want.DeepCopy()
			if labels := want.GetLabels(); !reflect.DeepEqual(labels, map[string]string{"app.kubernetes.io/component": "crd", "app.kubernetes.io/part-of": "whatsapp-commerce-operator"}) {
				t.Errorf("%s: config/crd labels it %v; the chart's CRDs need a look", k, labels)
			}
			want.SetLabels(nil)
			annotations := want.GetAnnotations()
			for _, a := range []string{"kustomize.toolkit.fluxcd.io/prune", "argocd.argoproj.io/sync-options"} {
				if _, ok := annotations[a]; !ok {
					t.Errorf("%s: config/crd no longer annotates it %s; the chart's CRDs need a look", k, a)
				}
				delete(annotations, a)
			}
			want.SetAnnotations(annotations)
		}
		diffs := append(notContained(k, want.Object, got.Object), notContained(k, got.Object, want.Object)...)
		if len(diffs) > 0 {
			t.Errorf("the chart's %s differs from config/default's:\n  %s", k, strings.Join(sortedUnique(diffs), "\n  "))
		}
	}
}

func TestChartRendersConfigDefault(t *testing.T) {
	t.Parallel()
	_, objs := render(t, "config/default")
	kustomize := index(t, objs)

	// helm install --create-namespace creates the namespace; the chart creates
	// it (labelled as config/default does) only when asked to.
	withNamespace := helmTemplate(t, "createNamespace=true")
	sameObjects(t, kustomize, withNamespace)

	delete(kustomize, "Namespace//"+systemNamespace)
	sameObjects(t, kustomize, helmTemplate(t))
}

// TestChartRendersTheComponents enables the chart's network policy,
// ServiceMonitor and archive Secret, which must be config/default's optional
// components.
func TestChartRendersTheComponents(t *testing.T) {
	t.Parallel()
	_, objs := renderOverlay(t, "network-policy", "prometheus", "archive")
	kustomize := index(t, objs)
	delete(kustomize, "Namespace//"+systemNamespace)
	sameObjects(t, kustomize, helmTemplate(t, "networkPolicy.enabled=true", "metrics.serviceMonitor.enabled=true",
		"archive.existingSecret="+namePrefix+"archive"))
}

// TestNamespacedInstallGrantsSecretsPerNamespace renders config/default with
// the namespaced component, and the chart with watchNamespaces: both watch
// "shop" only, grant Secrets and ConfigMaps by a Role there, and leave them out
// of the cluster-wide ClusterRole.
func TestNamespacedInstallGrantsSecretsPerNamespace(t *testing.T) {
	t.Parallel()
	_, objs := renderOverlay(t, "namespaced")
	kustomize := index(t, objs)
	delete(kustomize, "Namespace//"+systemNamespace)
	chart := helmTemplate(t, "watchNamespaces={shop}")
	sameObjects(t, kustomize, chart)

	var clusterRole rbacv1.ClusterRole
	chart.get(t, "ClusterRole//"+namePrefix+"manager-role", &clusterRole)
	granted := rulesOf(clusterRole.Rules)
	for _, r := range []string{" secrets", " configmaps"} {
		if verbs, ok := granted[r]; ok {
			t.Errorf("the namespaced install's ClusterRole grants %v on%s cluster-wide", verbs, r)
		}
	}
	var role rbacv1.Role
	chart.get(t, "Role/shop/"+namePrefix+"manager-role", &role)
	granted = rulesOf(role.Rules)
	if !reflect.DeepEqual(granted, ruleSet{" secrets": {"get"}, " configmaps": {"create", "delete", "list"}}) {
		t.Errorf("the Role in shop grants %v; want Secrets read by name and refused elements kept", granted)
	}
}

// TestChartCopiesConfig proves the chart's CRDs, ClusterRoles and admission policies are
// config/'s files as they are (`make chart-sync` copies them).
func TestChartCopiesConfig(t *testing.T) {
	t.Parallel()
	compare := func(what, from, to string, keep func(path string, data []byte) bool) {
		t.Helper()
		want := readYAMLFiles(t, from, keep)
		got := readYAMLFiles(t, to, nil)
		if len(want) == 0 {
			t.Fatalf("no %s in %s", what, from)
		}
		for name, data := range want {
			if !bytes.Equal(got[name], data) {
				t.Errorf("%s/%s is not a copy of %s/%s: run make chart-sync", to, name, from, name)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("%s/%s has no original in %s: run make chart-sync", to, name, from)
			}
		}
	}
	compare("CRDs", "config/crd/bases", chartDir+"/crds", nil)
	compare("ClusterRoles", "config/rbac", chartDir+"/files/rbac", func(_ string, data []byte) bool {
		return bytes.Contains(data, []byte("\nkind: ClusterRole\n"))
	})
	compare("admission policies", "config/policy", chartDir+"/files/policy", func(_ string, data []byte) bool {
		return bytes.Contains(data, []byte("\nkind: ValidatingAdmissionPolicy\n"))
	})
}

func readYAMLFiles(t *testing.T, dir string, keep func(string, []byte) bool) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(repoPath(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if keep == nil || keep(p, data) {
			files[filepath.Base(p)] = data
		}
	}
	return files
}

func TestChartValues(t *testing.T) {
	t.Parallel()
	var dep appsv1.Deployment
	helmTemplate(t, "replicas=3", "watchNamespaces={shop,outlet}", "image.digest=sha256:0123", "archive.existingSecret=pg",
		"metrics.enabled=false", "extraArgs={--zap-log-level=debug}", "resources.limits.memory=1Gi").get(t, deploymentKey, &dep)
	c := dep.Spec.Template.Spec.Containers[0]
	if *dep.Spec.Replicas != 3 {
		t.Errorf("replicas=3 rendered %d replicas", *dep.Spec.Replicas)
	}
	wantArgs := []string{"--leader-elect", "--metrics-bind-address=0", "--health-probe-bind-address=:8081", "--webhook-bind-address=:8082", "--namespaces=shop,outlet", "--zap-log-level=debug"}
	if !reflect.DeepEqual(c.Args, wantArgs) {
		t.Errorf("args %q, want %q", c.Args, wantArgs)
	}
	if c.Image != "ghcr.io/whatsapp-commerce-operator/manager@sha256:0123" {
		t.Errorf("image.digest rendered image %s", c.Image)
	}
	if c.Resources.Limits.Memory().String() != "1Gi" {
		t.Errorf("resources.limits.memory=1Gi rendered %v", c.Resources.Limits)
	}
	archive := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "ARCHIVE_DATABASE_URL" })
	if archive < 0 || c.Env[archive].ValueFrom == nil || c.Env[archive].ValueFrom.SecretKeyRef == nil ||
		c.Env[archive].ValueFrom.SecretKeyRef.Name != "pg" || c.Env[archive].ValueFrom.SecretKeyRef.Key != "url" {
		t.Errorf("archive.existingSecret=pg rendered env %+v", c.Env)
	}
	for _, p := range c.Ports {
		if p.Name == "metrics" {
			t.Errorf("metrics.enabled=false still exposes the metrics port")
		}
	}
	objs := helmTemplate(t, "metrics.enabled=false", "archive.databaseURL=postgres://u:p@db/commerce")
	if _, ok := objs[metricsKey]; ok {
		t.Errorf("metrics.enabled=false still renders the metrics Service")
	}
	secret := objs["Secret/"+systemNamespace+"/"+namePrefix+"archive"]
	if url, _, _ := unstructured.NestedString(secret.Object, "stringData", "url"); url != "postgres://u:p@db/commerce" {
		t.Errorf("archive.databaseURL rendered Secret %v", secret)
	}

	_, stderr, err := helm(t, "template", releaseName, chartDir, "--set", "leaderElection.enabled=false")
	if err == nil || !strings.Contains(stderr, "leaderElection.enabled=false needs replicas: 1") {
		t.Errorf("two replicas without leader election rendered (err %v): %s", err, stderr)
	}
}

func TestChartLints(t *testing.T) {
	t.Parallel()
	mustHelm(t, "lint", "--strict", chartDir)
	mustHelm(t, "lint", "--strict", chartDir, "--set", "networkPolicy.enabled=true,metrics.serviceMonitor.enabled=true,createNamespace=true,archive.existingSecret=pg,watchNamespaces={a}")
}

// TestHelmInstallUpgradeUninstall installs the chart with a real Helm into a
// control plane without the CRDs, upgrades it and uninstalls it. Pods never
// run here (there is no kubelet), so nothing waits for them.
func TestHelmInstallUpgradeUninstall(t *testing.T) {
	t.Parallel()
	c := startCluster(t, testenv.WithoutCRDs()) // the install has to bring them
	ctx := context.Background()
	kube := func(args ...string) []string {
		return append([]string{"--kubeconfig", c.kubeconfig, "--namespace", systemNamespace}, args...)
	}

	out := mustHelm(t, kube("install", releaseName, chartDir, "--create-namespace")...)
	if !strings.Contains(out, "STATUS: deployed") || !strings.Contains(out, "kubectl whatsapp webhook-url") {
		t.Errorf("helm install printed:\n%s", out)
	}
	for _, crd := range []string{"whatsappchannels", "whatsapporders", "productinquiries", "productmessages"} {
		live := &unstructured.Unstructured{}
		live.SetAPIVersion("apiextensions.k8s.io/v1")
		live.SetKind("CustomResourceDefinition")
		if err := c.env.Client.Get(ctx, client.ObjectKey{Name: crd + ".commerce.wa.dev"}, live); err != nil {
			t.Errorf("helm install did not create CRD %s: %v", crd, err)
		}
	}
	// Every object of the release exists.
	manifest := decodeObjects(t, []byte(mustHelm(t, kube("get", "manifest", releaseName)...)))
	if len(manifest) < 15 {
		t.Fatalf("the release has %d objects", len(manifest))
	}
	for _, o := range manifest {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.GroupVersionKind())
		if err := c.env.Client.Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
			t.Errorf("%s of the release is not in the cluster: %v", key(o), err)
		}
	}
	deployment := func() *appsv1.Deployment {
		var dep appsv1.Deployment
		if err := c.env.Client.Get(ctx, client.ObjectKey{Namespace: systemNamespace, Name: namePrefix + "controller-manager"}, &dep); err != nil {
			t.Fatalf("reading the Deployment: %v", err)
		}
		return &dep
	}
	if got := *deployment().Spec.Replicas; got != 2 {
		t.Errorf("installed %d replicas, want 2", got)
	}

	// An order made while installed survives the upgrade and the uninstall.
	c.namespace(t, "shop")
	order := &commercev1alpha1.WhatsAppOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "shop-1"},
		Spec: commercev1alpha1.WhatsAppOrderSpec{
			Channel: "shop", MessageID: "wamid.1", ReceivedAt: metav1.Now(), CatalogID: "1",
			Customer: commercev1alpha1.Customer{WaID: "16505551234"},
			Items:    []commercev1alpha1.OrderItem{{ProductRetailerID: "a", Quantity: 1, ItemPrice: "1", Currency: "EUR"}},
		},
	}
	if err := c.env.Client.Create(ctx, order); err != nil {
		t.Fatal(err)
	}

	mustHelm(t, kube("upgrade", releaseName, chartDir, "--set", "replicas=3", "--set", "watchNamespaces={shop}")...)
	dep := deployment()
	if *dep.Spec.Replicas != 3 || !slices.Contains(dep.Spec.Template.Spec.Containers[0].Args, "--namespaces=shop") {
		t.Errorf("after the upgrade: %d replicas, args %q", *dep.Spec.Replicas, dep.Spec.Template.Spec.Containers[0].Args)
	}
	if out := mustHelm(t, kube("history", releaseName)...); !strings.Contains(out, "Upgrade complete") {
		t.Errorf("helm history after the upgrade:\n%s", out)
	}

	mustHelm(t, kube("uninstall", releaseName)...)
	err := c.env.Client.Get(ctx, client.ObjectKeyFromObject(dep), &appsv1.Deployment{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("after helm uninstall the Deployment is still there (%v)", err)
	}
	// Helm never deletes the CRDs of crds/, and with them every order.
	if err := c.env.Client.Get(ctx, client.ObjectKeyFromObject(order), &commercev1alpha1.WhatsAppOrder{}); err != nil {
		t.Errorf("helm uninstall took the orders with it: %v", err)
	}
}
