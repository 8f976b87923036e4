// Package architecture holds the rules of direction of the code: imports run
// downward through the groups of the README's map, and never back up. The test
// reads the packages with `go list`, so it sees exactly what the compiler sees.
package architecture

import (
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator"

// layers lists the groups from the bottom up; a package's layer is the one of
// its longest matching prefix. A production package may import packages of
// lower layers, and of its own layer only where sameLayer allows.
var layers = []struct {
	name     string
	prefixes []string
}{
	{"API and formats", []string{"api/", "whatsapp"}},
	{"shared machinery", []string{"internal/"}},
	{"receiver and reconcilers", []string{"webhookreceiver", "controllers"}},
	{"composition root", []string{"operator"}},
	{"commands, test doubles and suites", []string{"", "cmd/", "hack/", "test/", "testkit/"}},
}

// sameLayer says which packages of one layer may import each other: the shared
// machinery builds on itself (a leaf at a time), the receiver and the
// reconcilers are peers that never import each other.
func sameLayer(from, to string) bool {
	switch {
	case strings.HasPrefix(from, "internal/"):
		return true
	case from == "" || strings.HasPrefix(from, "cmd/") || strings.HasPrefix(from, "hack/") || strings.HasPrefix(from, "test/") || strings.HasPrefix(from, "testkit/"):
		return true
	default:
		// within one folder (webhookreceiver and webhookreceiver/payload, say)
		return top(from) == top(to)
	}
}

func top(p string) string { return strings.SplitN(p, "/", 2)[0] }

func layerOf(p string) int {
	best, bestLen := -1, -1
	for i, l := range layers {
		for _, pre := range l.prefixes {
			if (pre == "" && p == "") || (pre != "" && strings.HasPrefix(p, pre) && len(pre) > bestLen) {
				best, bestLen = i, len(pre)
			}
		}
	}
	return best
}

type pkg struct {
	ImportPath string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out := goList(t, "-json", "./...")
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// goList runs `go list` with args at the module's root.
func goList(t *testing.T, args ...string) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return out
}

func rel(p string) (string, bool) {
	if p == module {
		return "", true
	}
	r, ok := strings.CutPrefix(p, module+"/")
	return r, ok
}

// violations returns every import of a production package that runs back up.
func violations(pkgs []pkg) []string {
	var bad []string
	for _, p := range pkgs {
		from, _ := rel(p.ImportPath)
		lf := layerOf(from)
		for _, imp := range p.Imports {
			to, ours := rel(imp)
			if !ours {
				continue
			}
			lt := layerOf(to)
			if lt > lf || (lt == lf && !sameLayer(from, to)) {
				bad = append(bad, from+" ("+layers[lf].name+") imports "+to+" ("+layers[lt].name+")")
			}
		}
	}
	return bad
}

func TestImportsRunDownward(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; the test is not reading the module", len(pkgs))
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// The rules themselves must catch what they are for.
func TestRulesCatchImportsBackUp(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		bad      bool
	}{
		{"controllers", "internal/statuswrite", false},
		{"internal/statuswrite", "controllers", true},
		{"internal/notification", "internal/cart", false},
		{"controllers", "webhookreceiver", true},
		{"webhookreceiver", "controllers", true},
		{"webhookreceiver", "webhookreceiver/payload", false},
		{"whatsapp", "internal/cart", true},
		{"api/v1alpha1", "whatsapp", true},
		{"whatsapp/webhook", "whatsapp", false},
		{"operator", "controllers", false},
		{"controllers", "operator", true},
		{"internal/archive", "testkit/testenv", true},
		{"testkit/fakewhatsapp", "webhookreceiver/payload", false},
		{"", "operator", false},
		{"operator", "cmd/kubectl-whatsapp/plugin", true},
	} {
		got := len(violations([]pkg{{ImportPath: module + "/" + tc.from, Imports: []string{module + "/" + tc.to}}})) > 0
		if tc.from == "" {
			got = len(violations([]pkg{{ImportPath: module, Imports: []string{module + "/" + tc.to}}})) > 0
		}
		if got != tc.bad {
			t.Errorf("%q imports %q: violation %v, want %v", tc.from, tc.to, got, tc.bad)
		}
	}
}
