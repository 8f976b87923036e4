package e2e

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// defaultObjects is everything config/default renders, as "Kind/namespace/name".
var defaultObjects = []string{
	"Namespace//" + systemNamespace,
	"CustomResourceDefinition//whatsappchannels.commerce.wa.dev",
	"CustomResourceDefinition//whatsapporders.commerce.wa.dev",
	"CustomResourceDefinition//productinquiries.commerce.wa.dev",
	"CustomResourceDefinition//productmessages.commerce.wa.dev",
	"ServiceAccount/" + systemNamespace + "/" + serviceAccount,
	"ClusterRole//" + namePrefix + "manager-role",
	"ClusterRoleBinding//" + namePrefix + "manager-rolebinding",
	"Role/" + systemNamespace + "/" + namePrefix + "leader-election-role",
	"RoleBinding/" + systemNamespace + "/" + namePrefix + "leader-election-rolebinding",
	"ClusterRole//" + namePrefix + "whatsappchannel-admin-role",
	"ClusterRole//" + namePrefix + "whatsappchannel-editor-role",
	"ClusterRole//" + namePrefix + "whatsappchannel-viewer-role",
	"ClusterRole//" + namePrefix + "whatsapporder-admin-role",
	"ClusterRole//" + namePrefix + "whatsapporder-editor-role",
	"ClusterRole//" + namePrefix + "whatsapporder-viewer-role",
	"ClusterRole//" + namePrefix + "whatsapporder-decider-role",
	"ClusterRole//" + namePrefix + "productinquiry-admin-role",
	"ClusterRole//" + namePrefix + "productinquiry-editor-role",
	"ClusterRole//" + namePrefix + "productinquiry-viewer-role",
	"ClusterRole//" + namePrefix + "productmessage-admin-role",
	"ClusterRole//" + namePrefix + "productmessage-editor-role",
	"ClusterRole//" + namePrefix + "productmessage-viewer-role",
	"ValidatingAdmissionPolicy//" + namePrefix + "whatsapporder-decisions-only",
	"ValidatingAdmissionPolicyBinding//" + namePrefix + "whatsapporder-decisions-only",
	"Service/" + systemNamespace + "/" + namePrefix + "webhook-receiver",
	"Service/" + systemNamespace + "/" + namePrefix + "metrics",
	"Deployment/" + systemNamespace + "/" + namePrefix + "controller-manager",
	"PodDisruptionBudget/" + systemNamespace + "/" + namePrefix + "controller-manager",
}

const (
	deploymentKey = "Deployment/" + systemNamespace + "/" + namePrefix + "controller-manager"
	metricsKey    = "Service/" + systemNamespace + "/" + namePrefix + "metrics"
	receiverKey   = "Service/" + systemNamespace + "/" + namePrefix + "webhook-receiver"
)

var clusterScoped = map[string]bool{"Namespace": true, "CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true}

// TestDefaultRenders checks what config/default renders, object by object: the
// names, the namespace, the Deployment as the issue specifies it, and that the
// Services, the PodDisruptionBudget and the bindings point at what exists.
func TestDefaultRenders(t *testing.T) {
	t.Parallel()
	_, objs := render(t, "config/default")
	idx := index(t, objs)
	if got, want := idx.keys(), sortedUnique(defaultObjects); !reflect.DeepEqual(got, want) {
		t.Fatalf("config/default renders\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for _, o := range objs {
		if clusterScoped[o.GetKind()] != (o.GetNamespace() == "") || o.GetNamespace() != "" && o.GetNamespace() != systemNamespace {
			t.Errorf("%s: namespace %q, want %q for namespaced kinds and none for cluster-scoped ones", key(o), o.GetNamespace(), systemNamespace)
		}
		if o.GetLabels()["app.kubernetes.io/part-of"] != "whatsapp-commerce-operator" {
			t.Errorf("%s: no app.kubernetes.io/part-of=whatsapp-commerce-operator label", key(o))
		}
		// `make undeploy` deletes all but what is labelled a CRD; GitOps tools
		// never delete the CRDs, and with them every order, on their own.
		isCRD := o.GetKind() == "CustomResourceDefinition"
		if got := o.GetLabels()["app.kubernetes.io/component"] == "crd"; got != isCRD {
			t.Errorf("%s: label app.kubernetes.io/component=crd is %v, want %v", key(o), got, isCRD)
		}
		if isCRD {
			ann := o.GetAnnotations()
			if ann["kustomize.toolkit.fluxcd.io/prune"] != "disabled" || ann["argocd.argoproj.io/sync-options"] != "Prune=false,Delete=false" {
				t.Errorf("%s: annotations %v do not keep Flux and Argo CD from deleting it", key(o), ann)
			}
		}
	}

	var ns corev1.Namespace
	idx.get(t, "Namespace//"+systemNamespace, &ns)
	if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Errorf("namespace: pod-security.kubernetes.io/enforce=%q, want restricted", got)
	}

	var dep appsv1.Deployment
	idx.get(t, deploymentKey, &dep)
	podLabels := labels.Set(dep.Spec.Template.Labels)
	checkDeployment(t, &dep)

	// The pods run as the rendered ServiceAccount.
	idx.get(t, "ServiceAccount/"+systemNamespace+"/"+dep.Spec.Template.Spec.ServiceAccountName, &corev1.ServiceAccount{})

	for _, k := range []string{receiverKey, metricsKey} {
		var svc corev1.Service
		idx.get(t, k, &svc)
		if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
			t.Errorf("%s: selector %v does not select the pods (%v)", k, svc.Spec.Selector, podLabels)
		}
	}
	checkServicePort(t, idx, receiverKey, &dep, 80, "webhook")
	checkServicePort(t, idx, metricsKey, &dep, 8080, "metrics")

	var pdb policyv1.PodDisruptionBudget
	idx.get(t, "PodDisruptionBudget/"+systemNamespace+"/"+namePrefix+"controller-manager", &pdb)
	if pdb.Spec.MinAvailable == nil || *pdb.Spec.MinAvailable != intstr.FromInt32(1) || pdb.Spec.MaxUnavailable != nil {
		t.Errorf("PodDisruptionBudget: minAvailable %v, maxUnavailable %v; want minAvailable 1", pdb.Spec.MinAvailable, pdb.Spec.MaxUnavailable)
	}
	if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err != nil || sel.Empty() || !sel.Matches(podLabels) {
		t.Errorf("PodDisruptionBudget: selector %v does not select the pods (%v)", pdb.Spec.Selector, podLabels)
	}

	// Bindings bind the rendered roles to the rendered ServiceAccount.
	var crb rbacv1.ClusterRoleBinding
	idx.get(t, "ClusterRoleBinding//"+namePrefix+"manager-rolebinding", &crb)
	checkBinding(t, idx, "ClusterRoleBinding "+crb.Name, crb.RoleRef, crb.Subjects, "")
	var rb rbacv1.RoleBinding
	idx.get(t, "RoleBinding/"+systemNamespace+"/"+namePrefix+"leader-election-rolebinding", &rb)
	checkBinding(t, idx, "RoleBinding "+rb.Name, rb.RoleRef, rb.Subjects, systemNamespace)

	var le rbacv1.Role
	idx.get(t, "Role/"+systemNamespace+"/"+namePrefix+"leader-election-role", &le)
	wantLE := ruleSet{
		"coordination.k8s.io leases": {"create", "delete", "get", "list", "patch", "update", "watch"},
		" events":                    {"create", "patch"},
		"events.k8s.io events":       {"create", "patch"},
	}
	if got := rulesOf(le.Rules); !reflect.DeepEqual(got, wantLE) {
		t.Errorf("leader election Role grants %v, want %v", got, wantLE)
	}

	for _, kind := range []string{"Role", "ClusterRole"} {
		for _, o := range idx.ofKind(kind) {
			var role rbacv1.ClusterRole // a Role's rules decode the same way
			idx.get(t, key(o), &role)
			for _, v := range wildcards(role.Rules) {
				t.Errorf("%s: %s", key(o), v)
			}
		}
	}
	checkUserRoles(t, idx)
}

func checkDeployment(t *testing.T, dep *appsv1.Deployment) {
	t.Helper()
	spec := dep.Spec.Template.Spec
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 2 {
		t.Errorf("Deployment: replicas %v, want 2", dep.Spec.Replicas)
	}
	if sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector); err != nil || !sel.Matches(labels.Set(dep.Spec.Template.Labels)) {
		t.Errorf("Deployment: selector %v does not select its own pods", dep.Spec.Selector)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("Deployment: %d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if c.Image != image {
		t.Errorf("Deployment: image %q, want %q (config/default's images:)", c.Image, image)
	}
	for _, arg := range []string{"--leader-elect", "--metrics-bind-address=:8080", "--health-probe-bind-address=:8081", "--webhook-bind-address=:8082"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("Deployment: args %v lack %s", c.Args, arg)
		}
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if want := map[string]int32{"webhook": 8082, "metrics": 8080, "health": 8081}; !reflect.DeepEqual(ports, want) {
		t.Errorf("Deployment: container ports %v, want %v", ports, want)
	}
	for name, probe := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != name || ports[probe.HTTPGet.Port.String()] != 8081 {
			t.Errorf("Deployment: the probe for %s is %+v, want an HTTP GET of %s on port health (8081)", name, probe, name)
		}
	}
	wantRes := map[string]string{"requests.cpu": "50m", "requests.memory": "64Mi", "limits.cpu": "500m", "limits.memory": "256Mi"}
	gotRes := map[string]string{
		"requests.cpu": c.Resources.Requests.Cpu().String(), "requests.memory": c.Resources.Requests.Memory().String(),
		"limits.cpu": c.Resources.Limits.Cpu().String(), "limits.memory": c.Resources.Limits.Memory().String(),
	}
	if !reflect.DeepEqual(gotRes, wantRes) {
		t.Errorf("Deployment: resources %v, want %v", gotRes, wantRes)
	}
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("Deployment: pod securityContext %+v, want runAsNonRoot and the RuntimeDefault seccomp profile", psc)
	}
	csc := c.SecurityContext
	if csc == nil || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation ||
		csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem ||
		csc.Capabilities == nil || !reflect.DeepEqual(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(csc.Capabilities.Add) > 0 {
		t.Errorf("Deployment: container securityContext %+v, want no privilege escalation, a read-only root and all capabilities dropped", csc)
	}
	if spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds != 30 {
		t.Errorf("Deployment: terminationGracePeriodSeconds %v, want 30", spec.TerminationGracePeriodSeconds)
	}
	spread := false
	for _, tsc := range spec.TopologySpreadConstraints {
		sel, err := metav1.LabelSelectorAsSelector(tsc.LabelSelector)
		if tsc.TopologyKey == corev1.LabelHostname && err == nil && !sel.Empty() && sel.Matches(labels.Set(dep.Spec.Template.Labels)) {
			spread = true
		}
	}
	if !spread {
		t.Errorf("Deployment: no topology spread constraint over %s that selects its own pods", corev1.LabelHostname)
	}
}

// checkServicePort checks that the Service's port leads to the named container port.
func checkServicePort(t *testing.T, idx objects, k string, dep *appsv1.Deployment, port int32, target string) {
	t.Helper()
	var svc corev1.Service
	idx.get(t, k, &svc)
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != port || svc.Spec.Ports[0].TargetPort != intstr.FromString(target) {
		t.Errorf("%s: ports %+v, want port %d to targetPort %q", k, svc.Spec.Ports, port, target)
	}
	if !slices.ContainsFunc(dep.Spec.Template.Spec.Containers[0].Ports, func(p corev1.ContainerPort) bool { return p.Name == target }) {
		t.Errorf("%s: targetPort %q is no container port", k, target)
	}
}

func checkBinding(t *testing.T, idx objects, what string, ref rbacv1.RoleRef, subjects []rbacv1.Subject, ns string) {
	t.Helper()
	if _, ok := idx[ref.Kind+"/"+ns+"/"+ref.Name]; !ok || ref.APIGroup != rbacv1.GroupName {
		t.Errorf("%s: roleRef %+v is not a rendered role", what, ref)
	}
	want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: serviceAccount, Namespace: systemNamespace}}
	if !reflect.DeepEqual(subjects, want) {
		t.Errorf("%s: subjects %+v, want %+v", what, subjects, want)
	}
}

// checkUserRoles checks the ClusterRoles for people: each aggregates into the
// built-in role of its name, grants only what that role should, and the order
// decider role is not aggregated anywhere.
func checkUserRoles(t *testing.T, idx objects) {
	t.Helper()
	roles := map[string]struct {
		aggregateTo string
		verbs       []string
	}{
		"admin":  {"admin", []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}},
		"editor": {"edit", []string{"create", "delete", "get", "list", "patch", "update", "watch"}},
		"viewer": {"view", []string{"get", "list", "watch"}},
	}
	for _, kind := range []struct{ name, plural string }{{"whatsappchannel", "whatsappchannels"}, {"whatsapporder", "whatsapporders"}, {"productinquiry", "productinquiries"}, {"productmessage", "productmessages"}} {
		for role, want := range roles {
			var cr rbacv1.ClusterRole
			idx.get(t, "ClusterRole//"+namePrefix+kind.name+"-"+role+"-role", &cr)
			for _, agg := range []string{"admin", "edit", "view"} {
				label := "rbac.authorization.k8s.io/aggregate-to-" + agg
				if got, wantOn := cr.Labels[label] == "true", agg == want.aggregateTo; got != wantOn {
					t.Errorf("ClusterRole %s: label %s=true is %v, want %v", cr.Name, label, got, wantOn)
				}
			}
			wantRules := ruleSet{
				"commerce.wa.dev " + kind.plural:             want.verbs,
				"commerce.wa.dev " + kind.plural + "/status": {"get"},
			}
			if got := rulesOf(cr.Rules); !reflect.DeepEqual(got, wantRules) {
				t.Errorf("ClusterRole %s grants %v, want %v", cr.Name, got, wantRules)
			}
		}
	}
	var decider rbacv1.ClusterRole
	idx.get(t, "ClusterRole//"+namePrefix+"whatsapporder-decider-role", &decider)
	// decide marks a decider for config/policy's admission policy.
	want := ruleSet{"commerce.wa.dev whatsapporders": {"decide", "get", "list", "patch", "update", "watch"}}
	if got := rulesOf(decider.Rules); !reflect.DeepEqual(got, want) {
		t.Errorf("ClusterRole %s grants %v, want %v", decider.Name, got, want)
	}
	for l := range decider.Labels {
		if strings.HasPrefix(l, "rbac.authorization.k8s.io/aggregate-to-") {
			t.Errorf("ClusterRole %s is aggregated (%s); it is meant to be bound explicitly", decider.Name, l)
		}
	}
}

// TestDefaultAppliesToAFreshCluster applies config/default the way `make deploy`,
// Flux and Argo CD do (one server-side apply of everything) and checks that every
// object exists as rendered, that a second apply changes nothing, and that the
// operator's pods pass the Pod Security Standard their namespace enforces.
func TestDefaultAppliesToAFreshCluster(t *testing.T) {
	t.Parallel()
	_, objs := render(t, "config/default")
	c := startCluster(t)

	_, stderr := c.mustKubectl(t, nil, "apply", "--server-side", "--field-manager=e2e", "-k", "config/default")
	if strings.Contains(stderr, "Warning") {
		t.Errorf("kubectl apply warned:\n%s", stderr)
	}
	ctx := context.Background()
	for _, want := range objs {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(want.GroupVersionKind())
		if err := c.env.Client.Get(ctx, client.ObjectKeyFromObject(want), got); err != nil {
			t.Errorf("%s: %v", key(want), err)
			continue
		}
		for _, d := range notContained(key(want), want.Object, got.Object) {
			t.Errorf("not as rendered: %s", d)
		}
	}

	// The API server holds exactly what is rendered: nothing for a GitOps tool to correct.
	if stdout, stderr, err := c.kubectl(t, nil, "diff", "--server-side", "--field-manager=e2e", "-k", "config/default"); err != nil {
		t.Errorf("kubectl diff after apply: %v (exit 1 means a difference)\n%s%s", err, stdout, stderr)
	}
	// Applying again is how an upgrade starts; it must be accepted as it is.
	c.mustKubectl(t, nil, "apply", "--server-side", "--field-manager=e2e", "-k", "config/default")

	// The namespace enforces the restricted Pod Security Standard; the pods the
	// Deployment would create must pass it. (envtest runs no controllers, so ask the
	// API server about such a pod directly.)
	idx := index(t, objs)
	var dep appsv1.Deployment
	idx.get(t, deploymentKey, &dep)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "manager-", Namespace: systemNamespace, Labels: dep.Spec.Template.Labels},
		Spec:       *dep.Spec.Template.Spec.DeepCopy(),
	}
	if err := c.env.Client.Create(ctx, pod.DeepCopy(), client.DryRunAll); err != nil {
		t.Errorf("a pod of the Deployment is refused in %s: %v", systemNamespace, err)
	}
	// The control: without its security context, the same pod is refused.
	insecure := pod.DeepCopy()
	insecure.Spec.SecurityContext = nil
	insecure.Spec.Containers[0].SecurityContext = nil
	if err := c.env.Client.Create(ctx, insecure, client.DryRunAll); err == nil || !strings.Contains(err.Error(), "PodSecurity") {
		t.Errorf("a pod without the security context was not refused by Pod Security admission (err %v): the namespace does not enforce it", err)
	}
}

// TestInstallerManifest builds the single-file installer the way `make
// build-installer` does, installs it into a fresh cluster with kubectl apply -f,
// and applies the samples on top, as the README tells users to.
func TestInstallerManifest(t *testing.T) {
	t.Parallel()
	yaml, objs := render(t, "config/default")
	installer := filepath.Join(t.TempDir(), "install.yaml")
	if err := os.WriteFile(installer, yaml, 0o644); err != nil {
		t.Fatal(err)
	}
	c := startCluster(t)

	c.mustKubectl(t, nil, "apply", "--server-side", "-f", installer)
	stdout, _ := c.mustKubectl(t, nil, "get", "-f", installer, "-o", "name")
	if got := len(strings.Fields(stdout)); got != len(objs) {
		t.Errorf("kubectl get -f install.yaml found %d objects, want %d:\n%s", got, len(objs), stdout)
	}
	c.mustKubectl(t, nil, "wait", "--for=condition=Established", "--timeout=2m",
		"crd/whatsappchannels.commerce.wa.dev", "crd/whatsapporders.commerce.wa.dev", "crd/productinquiries.commerce.wa.dev", "crd/productmessages.commerce.wa.dev")

	// config/samples is applied with -f (no kustomization.yaml there).
	c.namespace(t, "shop")
	c.mustKubectl(t, nil, "apply", "--server-side", "-n", "shop", "-f", "config/samples/")
	stdout, _ = c.mustKubectl(t, nil, "get", "whatsapp", "-n", "shop", "-o", "name")
	got := strings.Fields(stdout)
	slices.Sort(got)
	want := []string{
		"productinquiry.commerce.wa.dev/sample-inquiry",
		"productmessage.commerce.wa.dev/summer-picks",
		"whatsappchannel.commerce.wa.dev/shop",
		"whatsapporder.commerce.wa.dev/sample-order",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kubectl get whatsapp -n shop after applying the samples: %v, want %v", got, want)
	}
	c.mustKubectl(t, nil, "get", "secret", "shop-whatsapp", "-n", "shop")

	// The columns the contract promises, from the CRDs' printer columns.
	for resource, columns := range map[string][]string{
		"whatsapporders":   {"NAME", "CUSTOMER", "ITEMS", "TOTAL", "CURRENCY", "PHASE", "AGE"},
		"productinquiries": {"NAME", "CUSTOMER", "PRODUCT", "PHASE", "AGE"},
		"productmessages":  {"NAME", "TO", "PHASE", "DELIVERY", "INQUIRIES", "ORDERS", "AGE"},
		"whatsappchannels": {"NAME", "API", "PHONE NUMBER ID", "READY", "AGE"},
	} {
		stdout, _ = c.mustKubectl(t, nil, "get", resource, "-n", "shop")
		header := strings.SplitN(stdout, "\n", 2)[0]
		last := -1
		for _, col := range columns {
			i := strings.Index(header, col)
			if i <= last {
				t.Errorf("kubectl get %s: column %q missing or out of order in %q", resource, col, header)
				break
			}
			last = i
		}
	}
	stdout, _ = c.mustKubectl(t, nil, "get", "whatsapporders", "-n", "shop", "-o", "wide")
	for _, col := range []string{"CUSTOMER NAME", "STATE", "CHANNEL", "NOTIFIED", "DELIVERY"} {
		if !strings.Contains(strings.SplitN(stdout, "\n", 2)[0], col) {
			t.Errorf("kubectl get whatsapporders -o wide has no %s column:\n%s", col, stdout)
		}
	}
	stdout, _ = c.mustKubectl(t, nil, "get", "productmessages", "-n", "shop", "-o", "wide")
	for _, col := range []string{"TYPE", "CATALOG", "REVENUE"} {
		if !strings.Contains(strings.SplitN(stdout, "\n", 2)[0], col) {
			t.Errorf("kubectl get productmessages -o wide has no %s column:\n%s", col, stdout)
		}
	}
}

// TestComponentsOverlay enables both optional components in an overlay of
// config/default, as the comment in config/default/kustomization.yaml shows, and
// checks what they select; the overlay minus the ServiceMonitor (whose CRD belongs
// to the Prometheus Operator) is applied to a fresh cluster.
func TestComponentsOverlay(t *testing.T) {
	t.Parallel()
	_, objs := renderOverlay(t, "network-policy", "prometheus")
	idx := index(t, objs)
	const (
		npKey = "NetworkPolicy/" + systemNamespace + "/" + namePrefix + "controller-manager"
		smKey = "ServiceMonitor/" + systemNamespace + "/" + namePrefix + "metrics"
	)
	want := sortedUnique(append(slices.Clone(defaultObjects), npKey, smKey))
	if got := idx.keys(); !reflect.DeepEqual(got, want) {
		t.Fatalf("the overlay renders\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	var dep appsv1.Deployment
	idx.get(t, deploymentKey, &dep)
	podLabels := labels.Set(dep.Spec.Template.Labels)

	var np networkingv1.NetworkPolicy
	idx.get(t, npKey, &np)
	if sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector); err != nil || sel.Empty() || !sel.Matches(podLabels) {
		t.Errorf("NetworkPolicy: podSelector %v does not select the operator's pods (%v)", np.Spec.PodSelector, podLabels)
	}
	if !reflect.DeepEqual(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
		t.Errorf("NetworkPolicy: policyTypes %v, want [Ingress]", np.Spec.PolicyTypes)
	}
	// Each admitted port is a container port: webhook and health from anywhere,
	// metrics only from labelled namespaces.
	containerPorts := map[int32]string{}
	for _, p := range dep.Spec.Template.Spec.Containers[0].Ports {
		containerPorts[p.ContainerPort] = p.Name
	}
	admitted := map[string]string{}
	for _, rule := range np.Spec.Ingress {
		from := "anywhere"
		if len(rule.From) > 0 {
			from = "restricted"
		}
		for _, p := range rule.Ports {
			if p.Port == nil || p.Port.Type != intstr.Int || containerPorts[p.Port.IntVal] == "" {
				t.Errorf("NetworkPolicy: admits port %v, which is no container port number", p.Port)
				continue
			}
			admitted[containerPorts[p.Port.IntVal]] = from
		}
	}
	if want := map[string]string{"webhook": "anywhere", "health": "anywhere", "metrics": "restricted"}; !reflect.DeepEqual(admitted, want) {
		t.Errorf("NetworkPolicy admits %v, want %v", admitted, want)
	}

	var metricsSvc, receiverSvc corev1.Service
	idx.get(t, metricsKey, &metricsSvc)
	idx.get(t, receiverKey, &receiverSvc)
	sm := idx[smKey]
	sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	if len(sel) == 0 || !labels.SelectorFromSet(sel).Matches(labels.Set(metricsSvc.Labels)) || labels.SelectorFromSet(sel).Matches(labels.Set(receiverSvc.Labels)) {
		t.Errorf("ServiceMonitor: selector %v must select the metrics Service (%v) and not the webhook-receiver Service (%v)", sel, metricsSvc.Labels, receiverSvc.Labels)
	}
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if len(endpoints) != 1 || endpoints[0].(map[string]any)["port"] != metricsSvc.Spec.Ports[0].Name {
		t.Errorf("ServiceMonitor: endpoints %v, want the metrics Service's port %q", endpoints, metricsSvc.Spec.Ports[0].Name)
	}

	// Everything but the ServiceMonitor is accepted by a real API server.
	var apply []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() != "ServiceMonitor" {
			apply = append(apply, o)
		}
	}
	c := startCluster(t)
	c.mustKubectl(t, encodeObjects(t, apply), "apply", "--server-side", "-f", "-")
	var live networkingv1.NetworkPolicy
	if err := c.env.Client.Get(context.Background(), client.ObjectKey{Namespace: systemNamespace, Name: np.Name}, &live); err != nil {
		t.Fatalf("the NetworkPolicy was not created: %v", err)
	}
	if !reflect.DeepEqual(live.Spec.PodSelector, np.Spec.PodSelector) || len(live.Spec.Ingress) != len(np.Spec.Ingress) {
		t.Errorf("the NetworkPolicy is not as rendered: %+v", live.Spec)
	}
}

// TestUndeployKeepsOrdersUninstallDeletesThem removes the operator the way `make
// undeploy` does (everything but the CRDs) and checks that the channels, orders
// and inquiries survive; then deletes the CRDs the way `make uninstall` does,
// which deletes them all.
func TestUndeployKeepsOrdersUninstallDeletesThem(t *testing.T) {
	t.Parallel()
	_, objs := render(t, "config/default")
	c := startCluster(t)
	c.mustKubectl(t, nil, "apply", "--server-side", "-k", "config/default")
	c.namespace(t, "shop")
	c.mustKubectl(t, nil, "apply", "--server-side", "-n", "shop", "-f", "config/samples/")
	shop := []string{"whatsappchannel/shop", "whatsapporder/sample-order", "productinquiry/sample-inquiry", "productmessage/summer-picks"}

	// --wait=false: envtest runs no namespace controller, so the Namespace would
	// stay Terminating and kubectl would wait for it for ever.
	c.mustKubectl(t, nil, "delete", "--ignore-not-found", "--wait=false", "-k", "config/default", "-l", "app.kubernetes.io/component!=crd")
	ctx := context.Background()
	for _, o := range objs {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(o.GroupVersionKind())
		err := c.env.Client.Get(ctx, client.ObjectKeyFromObject(o), got)
		switch {
		case o.GetKind() == "CustomResourceDefinition":
			if err != nil {
				t.Errorf("undeploy deleted %s: %v", key(o), err)
			}
		case o.GetKind() == "Namespace" && err == nil:
			// envtest runs no namespace controller, so it stays Terminating.
			if got.GetDeletionTimestamp() == nil {
				t.Errorf("undeploy left %s", key(o))
			}
		case !apierrors.IsNotFound(err):
			t.Errorf("undeploy left %s (%v)", key(o), err)
		}
	}
	c.mustKubectl(t, nil, append([]string{"get", "-n", "shop"}, shop...)...)

	c.mustKubectl(t, nil, "delete", "--ignore-not-found", "--timeout=3m", "-k", "config/crd")
	if crds, _ := c.mustKubectl(t, nil, "get", "crd", "-o", "name"); strings.Contains(crds, "commerce.wa.dev") {
		t.Errorf("uninstall left CRDs:\n%s", crds)
	}
	// Installing the CRDs again brings nothing back: the objects were deleted with them.
	c.mustKubectl(t, nil, "apply", "--server-side", "-k", "config/crd")
	c.mustKubectl(t, nil, "wait", "--for=condition=Established", "--timeout=2m", "crd", "-l", "app.kubernetes.io/component=crd")
	if left, _ := c.mustKubectl(t, nil, "get", "whatsapp", "-A", "-o", "name"); strings.TrimSpace(left) != "" {
		t.Errorf("uninstall left objects of the operator's kinds:\n%s", left)
	}
}

// TestArchiveComponent enables config/components/archive in an overlay: the
// manager gets ARCHIVE_DATABASE_URL from the Secret the component documents, and
// nothing else changes.
func TestArchiveComponent(t *testing.T) {
	t.Parallel()
	_, objs := renderOverlay(t, "archive")
	idx := index(t, objs)
	if got := idx.keys(); !reflect.DeepEqual(got, sortedUnique(slices.Clone(defaultObjects))) {
		t.Errorf("the overlay renders\n  %s\nwant the objects of config/default", strings.Join(got, "\n  "))
	}
	var dep appsv1.Deployment
	idx.get(t, deploymentKey, &dep)
	var found *corev1.EnvVar
	for i, e := range dep.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "ARCHIVE_DATABASE_URL" {
			found = &dep.Spec.Template.Spec.Containers[0].Env[i]
		}
	}
	if found == nil || found.Value != "" || found.ValueFrom == nil || found.ValueFrom.SecretKeyRef == nil ||
		found.ValueFrom.SecretKeyRef.Name != "whatsapp-commerce-archive" || found.ValueFrom.SecretKeyRef.Key != "url" {
		t.Errorf("manager env ARCHIVE_DATABASE_URL = %+v; want it from Secret whatsapp-commerce-archive, key url", found)
	}
}
