package e2e

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// ruleSet is what a list of rules grants: "apiGroup resource" (or
// "nonResourceURL path") to the sorted verbs.
type ruleSet map[string][]string

func rulesOf(rules []rbacv1.PolicyRule) ruleSet {
	acc := map[string][]string{}
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				acc[g+" "+res] = append(acc[g+" "+res], r.Verbs...)
			}
		}
		for _, u := range r.NonResourceURLs {
			acc["nonResourceURL "+u] = append(acc["nonResourceURL "+u], r.Verbs...)
		}
	}
	out := ruleSet{}
	for k, verbs := range acc {
		out[k] = sortedUnique(verbs)
	}
	return out
}

// wildcards lists every "*" in the rules.
func wildcards(rules []rbacv1.PolicyRule) []string {
	var found []string
	for i, r := range rules {
		for field, values := range map[string][]string{
			"apiGroups": r.APIGroups, "resources": r.Resources, "verbs": r.Verbs,
			"resourceNames": r.ResourceNames, "nonResourceURLs": r.NonResourceURLs,
		} {
			for _, v := range values {
				if strings.Contains(v, "*") {
					found = append(found, fmt.Sprintf("rule %d: wildcard %q in %s", i, v, field))
				}
			}
		}
	}
	sort.Strings(found)
	return found
}

// managerAllowList is the most the operator's ClusterRole may ever grant. The
// role is generated from the +kubebuilder:rbac markers and grows as controllers
// are added; this is its ceiling. Widening it is a security decision: Secrets are
// read by name (the channel's secretRef), never listed or watched, which would
// expose every Secret in the cluster.
var managerAllowList = ruleSet{
	" secrets":                                {"get"},
	"commerce.wa.dev whatsappchannels":        {"get", "list", "watch"},
	"commerce.wa.dev whatsappchannels/status": {"get", "update"},
	"commerce.wa.dev whatsapporders":          {"create", "delete", "get", "list", "patch", "update", "watch"},
	"commerce.wa.dev productinquiries":        {"create", "delete", "get", "list", "patch", "update", "watch"},
	"commerce.wa.dev whatsapporders/status":   {"patch", "update"},
	"commerce.wa.dev productinquiries/status": {"patch", "update"},
	"commerce.wa.dev productmessages":         {"delete", "get", "list", "watch"},
	"commerce.wa.dev productmessages/status":  {"update"},
	"events.k8s.io events":                    {"create", "patch"},
	// The receiver keeps webhook elements it can never store in ConfigMaps
	// (created under a deterministic name, so a redelivery finds it exists); the leader lists
	// them by label, never watches, and deletes them once expired.
	" configmaps": {"create", "delete", "list"},
}

// privilegeViolations lists what the rules grant beyond the allow-list.
func privilegeViolations(rules []rbacv1.PolicyRule, allow ruleSet) []string {
	violations := wildcards(rules)
	for i, r := range rules {
		if len(r.NonResourceURLs) > 0 {
			violations = append(violations, fmt.Sprintf("rule %d: non-resource URLs %v are not in the allow-list", i, r.NonResourceURLs))
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, verb := range r.Verbs {
					if g == "" && res == "secrets" && (verb == "list" || verb == "watch") {
						violations = append(violations, fmt.Sprintf("rule %d: %s on Secrets: Secrets must never be listed or watched, only read by name", i, verb))
					}
					if !slices.Contains(allow[g+" "+res], verb) {
						violations = append(violations, fmt.Sprintf("rule %d: %s on %q in API group %q is not in the allow-list", i, verb, res, g))
					}
				}
			}
		}
	}
	return violations
}

// TestManagerRoleIsLeastPrivilege reads the generated ClusterRole
// (config/rbac/role.yaml, from the +kubebuilder:rbac markers) and fails on any
// permission beyond the allow-list, any wildcard, and Secrets list or watch.
func TestManagerRoleIsLeastPrivilege(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(repoPath("config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeObjects(t, data)
	if len(objs) != 1 || objs[0].GetKind() != "ClusterRole" || objs[0].GetName() != "manager-role" {
		t.Fatalf("config/rbac/role.yaml holds %d objects, want the one ClusterRole manager-role", len(objs))
	}
	var role rbacv1.ClusterRole
	index(t, objs).get(t, key(objs[0]), &role)
	if role.AggregationRule != nil {
		t.Errorf("manager-role aggregates other roles (%+v): its rules could grow without a marker", role.AggregationRule)
	}
	if len(role.Rules) == 0 {
		t.Fatal("manager-role grants nothing; run `make manifests`")
	}
	for _, v := range privilegeViolations(role.Rules, managerAllowList) {
		t.Errorf("config/rbac/role.yaml: %s", v)
	}
	if verbs := rulesOf(role.Rules)[" secrets"]; slices.Contains(verbs, "list") || slices.Contains(verbs, "watch") {
		t.Errorf("config/rbac/role.yaml lets the operator %v Secrets; it may only get them", verbs)
	}
}

// TestLeastPrivilegeCheckCatchesExcess makes sure the check above is not vacuous:
// each of these roles must be refused, and the allow-list itself accepted.
func TestLeastPrivilegeCheckCatchesExcess(t *testing.T) {
	t.Parallel()
	var allowed []rbacv1.PolicyRule
	for k, verbs := range managerAllowList {
		group, resource, _ := strings.Cut(k, " ")
		allowed = append(allowed, rbacv1.PolicyRule{APIGroups: []string{group}, Resources: []string{resource}, Verbs: verbs})
	}
	if v := privilegeViolations(allowed, managerAllowList); len(v) > 0 {
		t.Errorf("the allow-list itself is refused: %v", v)
	}
	for name, rule := range map[string]rbacv1.PolicyRule{
		"all verbs":           {APIGroups: []string{"commerce.wa.dev"}, Resources: []string{"whatsapporders"}, Verbs: []string{"*"}},
		"all resources":       {APIGroups: []string{"commerce.wa.dev"}, Resources: []string{"*"}, Verbs: []string{"get"}},
		"all subresources":    {APIGroups: []string{"commerce.wa.dev"}, Resources: []string{"whatsapporders/*"}, Verbs: []string{"update"}},
		"all groups":          {APIGroups: []string{"*"}, Resources: []string{"secrets"}, Verbs: []string{"get"}},
		"list secrets":        {APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}},
		"watch secrets":       {APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"watch"}},
		"update channels":     {APIGroups: []string{"commerce.wa.dev"}, Resources: []string{"whatsappchannels"}, Verbs: []string{"update"}},
		"create pods":         {APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create"}},
		"core events":         {APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create"}},
		"update configmaps":   {APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"update"}},
		"non-resource URL":    {NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}},
		"orders in any group": {APIGroups: []string{"example.com"}, Resources: []string{"whatsapporders"}, Verbs: []string{"get"}},
	} {
		if v := privilegeViolations(append(slices.Clone(allowed), rule), managerAllowList); len(v) == 0 {
			t.Errorf("%s (%+v) passes the check", name, rule)
		}
	}
}

// permission is one `kubectl auth can-i` question and the answer expected.
type permission struct {
	verb, resource string
	flags          []string
	want           bool
}

func (p permission) String() string {
	return strings.TrimSpace(p.verb + " " + p.resource + " " + strings.Join(p.flags, " "))
}

// TestInstalledPermissions installs config/default and asks the API server what
// the operator's ServiceAccount, and a user bound to the order decider role, may do.
func TestInstalledPermissions(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	c.mustKubectl(t, nil, "apply", "--server-side", "-k", "config/default")
	c.namespace(t, "shop")
	c.namespace(t, "elsewhere")

	var (
		shop  = []string{"-n", "shop"}
		other = []string{"-n", "elsewhere"}
		own   = []string{"-n", systemNamespace}
		all   = []string{"--all-namespaces"}
		none  []string // cluster-scoped
	)
	status := func(ns []string) []string { return append([]string{"--subresource=status"}, ns...) }
	const (
		orders    = "whatsapporders.commerce.wa.dev"
		inquiries = "productinquiries.commerce.wa.dev"
		channels  = "whatsappchannels.commerce.wa.dev"
		leases    = "leases.coordination.k8s.io"
		events    = "events.events.k8s.io"
	)

	t.Run("manager", func(t *testing.T) {
		for _, p := range []permission{
			// What the receiver and the reconcilers do.
			{"create", orders, shop, true},
			{"create", inquiries, shop, true},
			{"get", orders, shop, true},
			{"list", orders, all, true},
			{"watch", orders, all, true},
			{"list", inquiries, all, true},
			{"watch", inquiries, all, true},
			{"update", orders, status(shop), true},
			{"update", inquiries, status(shop), true},
			{"get", channels, shop, true},
			{"list", channels, shop, true},
			{"watch", channels, shop, true},
			{"list", channels, all, true},
			{"watch", channels, all, true},
			{"update", channels, status(shop), true},
			{"get", "secrets", shop, true},
			{"create", events, shop, true},
			{"patch", events, shop, true},
			{"get", leases, own, true},
			{"create", leases, own, true},
			{"update", leases, own, true},
			// Secrets by name only: never listed or watched, anywhere.
			{"list", "secrets", shop, false},
			{"watch", "secrets", shop, false},
			{"list", "secrets", own, false},
			{"watch", "secrets", own, false},
			{"list", "secrets", all, false},
			{"watch", "secrets", all, false},
			{"create", "secrets", shop, false},
			{"update", "secrets", shop, false},
			{"delete", "secrets", shop, false},
			// No workloads.
			{"create", "pods", shop, false},
			{"delete", "pods", shop, false},
			{"create", "pods", own, false},
			{"create", "deployments.apps", shop, false},
			{"delete", "deployments.apps", shop, false},
			{"update", "deployments.apps", own, false},
			// ConfigMaps only to keep refused webhook elements: created,
			// listed by label and deleted once expired; never changed or watched.
			{"create", "configmaps", shop, true},
			{"list", "configmaps", all, true},
			{"delete", "configmaps", shop, true},
			{"update", "configmaps", shop, false},
			{"patch", "configmaps", shop, false},
			{"watch", "configmaps", all, false},
			// Channels belong to their users; the operator writes only their status.
			{"create", channels, shop, false},
			{"update", channels, shop, false},
			{"patch", channels, shop, false},
			{"delete", channels, shop, false},
			// No wildcards, no escalation.
			{"*", "*", all, false},
			{"*", "*", shop, false},
			{"get", "*", shop, false},
			{"list", "*", all, false},
			{"create", "*", shop, false},
			{"create", "clusterroles.rbac.authorization.k8s.io", none, false},
			{"create", "clusterrolebindings.rbac.authorization.k8s.io", none, false},
			{"escalate", "clusterroles.rbac.authorization.k8s.io", none, false},
			{"bind", "clusterroles.rbac.authorization.k8s.io", none, false},
			{"create", "rolebindings.rbac.authorization.k8s.io", own, false},
			{"create", "serviceaccounts/token", own, false},
			// Leases and core events only in its own namespace, for leader election.
			{"get", leases, shop, false},
			{"update", leases, shop, false},
			{"create", "events", shop, false},
		} {
			t.Run(p.String(), func(t *testing.T) {
				t.Parallel()
				if got := c.canI(t, managerUser, p.verb, p.resource, p.flags...); got != p.want {
					t.Errorf("kubectl auth can-i %s --as=%s: %v, want %v", p, managerUser, got, p.want)
				}
			})
		}
	})

	// A user who may decide orders in one namespace, and nothing else.
	c.mustKubectl(t, nil, "create", "rolebinding", "order-deciders", "-n", "shop",
		"--clusterrole="+namePrefix+"whatsapporder-decider-role", "--user=alice")
	t.Run("decider", func(t *testing.T) {
		for _, p := range []permission{
			{"get", orders, shop, true},
			{"list", orders, shop, true},
			{"watch", orders, shop, true},
			{"update", orders, shop, true},
			{"patch", orders, shop, true},
			{"decide", orders, shop, true},
			{"get", orders, other, false},
			{"list", orders, all, false},
			{"create", orders, shop, false},
			{"delete", orders, shop, false},
			{"update", orders, status(shop), false},
			{"patch", orders, status(shop), false},
			{"get", inquiries, shop, false},
			{"get", channels, shop, false},
			{"get", "secrets", shop, false},
		} {
			t.Run(p.String(), func(t *testing.T) {
				t.Parallel()
				if got := c.canI(t, "alice", p.verb, p.resource, p.flags...); got != p.want {
					t.Errorf("kubectl auth can-i %s --as=alice: %v, want %v", p, got, p.want)
				}
			})
		}
	})

	// Deciding is all the role allows: the state moves, nothing else does.
	t.Run("decider decides", func(t *testing.T) {
		c.mustKubectl(t, nil, "apply", "--server-side", "-n", "shop", "-f", "config/samples/commerce_v1alpha1_whatsapporder.yaml")
		c.mustKubectl(t, nil, "patch", "wao", "sample-order", "-n", "shop", "--as=alice", "--type=merge", "-p", `{"spec":{"state":"Accepted"}}`)
		stdout, _ := c.mustKubectl(t, nil, "get", "wao", "sample-order", "-n", "shop", "-o", "jsonpath={.spec.state}")
		if stdout != "Accepted" {
			t.Errorf("state after alice's decision: %q, want Accepted", stdout)
		}
		for _, patch := range []string{`{"spec":{"text":"changed"}}`, `{"spec":{"state":"Pending"}}`} {
			_, stderr, err := c.kubectl(t, nil, "patch", "wao", "sample-order", "-n", "shop", "--as=alice", "--type=merge", "-p", patch)
			if err == nil || !strings.Contains(stderr, "is invalid") {
				t.Errorf("alice's patch %s: %v %s; want it refused as invalid by the API server", patch, err, stderr)
			}
		}
		_, stderr, err := c.kubectl(t, nil, "delete", "wao", "sample-order", "-n", "shop", "--as=alice")
		if err == nil || !strings.Contains(stderr, "forbidden") {
			t.Errorf("alice deleted an order (%v %s); want forbidden", err, stderr)
		}
	})
}

func TestRuleSetExpandsRules(t *testing.T) {
	t.Parallel()
	got := rulesOf([]rbacv1.PolicyRule{
		{APIGroups: []string{"a", "b"}, Resources: []string{"x", "y"}, Verbs: []string{"list", "get"}},
		{APIGroups: []string{"a"}, Resources: []string{"x"}, Verbs: []string{"get", "watch"}},
		{NonResourceURLs: []string{"/healthz"}, Verbs: []string{"get"}},
	})
	want := ruleSet{
		"a x": {"get", "list", "watch"}, "a y": {"get", "list"}, "b x": {"get", "list"}, "b y": {"get", "list"},
		"nonResourceURL /healthz": {"get"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rulesOf: %v, want %v", got, want)
	}
}
