// Package argocd tests the Argo CD health checks in config/argocd with gopher-lua,
// the Lua interpreter Argo CD runs them in, on the cases each kind's
// health_test.yaml lists (the layout of Argo CD's own resource_customizations).
package argocd

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/test/internal/luahealth"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// kinds are the kinds the contract ships a health check for.
var kinds = []string{"WhatsAppChannel", "WhatsAppOrder", "ProductInquiry", "ProductMessage"}

func checksDir(elem ...string) string {
	return filepath.Join(append([]string{testenv.RepoRoot(), "config", "argocd", "commerce.wa.dev"}, elem...)...)
}

type healthTests struct {
	Tests []struct {
		HealthStatus struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"healthStatus"`
		InputPath string `json:"inputPath"`
	} `json:"tests"`
}

// TestHealthChecks runs every case of every kind: what Argo CD shows for a
// resource in that state.
func TestHealthChecks(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			script := read(t, checksDir(kind, "health.lua"))
			var cases healthTests
			if err := yaml.Unmarshal([]byte(read(t, checksDir(kind, "health_test.yaml"))), &cases); err != nil {
				t.Fatal(err)
			}
			if len(cases.Tests) == 0 {
				t.Fatal("health_test.yaml lists no case")
			}
			seen := map[string]bool{}
			for _, c := range cases.Tests {
				var obj map[string]any
				if err := yaml.Unmarshal([]byte(read(t, checksDir(kind, c.InputPath))), &obj); err != nil {
					t.Fatalf("%s: %v", c.InputPath, err)
				}
				status, message, err := luahealth.Run(script, obj)
				if err != nil {
					t.Errorf("%s: %v", c.InputPath, err)
					continue
				}
				if status != c.HealthStatus.Status || message != c.HealthStatus.Message {
					t.Errorf("%s: %s %q, want %s %q", c.InputPath, status, message, c.HealthStatus.Status, c.HealthStatus.Message)
				}
				seen[status] = true
			}
			for _, want := range []string{"Healthy", "Progressing", "Degraded"} {
				if !seen[want] {
					t.Errorf("no case of %s is %s", kind, want)
				}
			}
		})
	}
}

var shared = regexp.MustCompile(`(?s)-- BEGIN shared.*-- END shared`)

// TestHealthChecksShareOneCore: Argo CD runs each kind's script on its own, so the
// logic common to all kinds is repeated in each file; it must not drift apart.
func TestHealthChecksShareOneCore(t *testing.T) {
	first := shared.FindString(read(t, checksDir(kinds[0], "health.lua")))
	if first == "" {
		t.Fatalf("%s/health.lua has no shared section", kinds[0])
	}
	for _, kind := range kinds[1:] {
		if got := shared.FindString(read(t, checksDir(kind, "health.lua"))); got != first {
			t.Errorf("the shared section of %s/health.lua differs from %s's", kind, kinds[0])
		}
	}
}

// TestEveryKindHasAHealthCheck: a kind added to the API gets a health check too.
func TestEveryKindHasAHealthCheck(t *testing.T) {
	crds, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "crd", "bases", "*.yaml"))
	if err != nil || len(crds) == 0 {
		t.Fatalf("no CRDs: %v", err)
	}
	for _, path := range crds {
		var crd struct {
			Spec struct {
				Group string `json:"group"`
				Names struct {
					Kind string `json:"kind"`
				} `json:"names"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(read(t, path)), &crd); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(checksDir(crd.Spec.Names.Kind, "health.lua")); err != nil {
			t.Errorf("%s.%s has no Argo CD health check: %v", crd.Spec.Names.Kind, crd.Spec.Group, err)
		}
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestKustomizationHasEveryCheck: config/argocd renders argocd-cm with each kind's
// script, verbatim, under the key Argo CD reads for that kind.
func TestKustomizationHasEveryCheck(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is unset: run `make test`, or set it to the output of hack/envtest-assets.sh")
	}
	out, err := exec.Command(filepath.Join(assets, "kubectl"), "kustomize", filepath.Join(testenv.RepoRoot(), "config", "argocd")).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize config/argocd: %v", err)
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(out, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Kind != "ConfigMap" || cm.Name != "argocd-cm" || cm.Namespace != "argocd" {
		t.Fatalf("config/argocd renders %s %s/%s, want ConfigMap argocd/argocd-cm", cm.Kind, cm.Namespace, cm.Name)
	}
	if len(cm.Data) != len(kinds) {
		t.Errorf("argocd-cm has %d keys, want one per kind (%d)", len(cm.Data), len(kinds))
	}
	for _, kind := range kinds {
		key := "resource.customizations.health.commerce.wa.dev_" + kind
		if cm.Data[key] != read(t, checksDir(kind, "health.lua")) {
			t.Errorf("argocd-cm key %s is not %s/health.lua", key, kind)
		}
	}
}
