// Package monitoring tests config/monitoring: the alert rules with promtool's
// unit tests, the Grafana dashboard against Grafana's published schema and the
// dashboard linter's rules, and that every metric either of them queries is
// one the operator exports.
package monitoring

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	promql "github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

func repoPath(elem ...string) string {
	return filepath.Join(append([]string{testenv.RepoRoot()}, elem...)...)
}

// ruleGroups is the spec of the PrometheusRule: the groups of a Prometheus rule file.
type ruleGroups struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert  string `json:"alert"`
			Record string `json:"record"`
			Expr   string `json:"expr"`
		} `json:"rules"`
	} `json:"groups"`
}

func readRules(t *testing.T) (ruleGroups, []byte) {
	t.Helper()
	data, err := os.ReadFile(repoPath("config", "monitoring", "prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		APIVersion string          `json:"apiVersion"`
		Kind       string          `json:"kind"`
		Metadata   json.RawMessage `json:"metadata"`
		Spec       json.RawMessage `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(data, &rule); err != nil {
		t.Fatalf("prometheusrule.yaml: %v", err)
	}
	if rule.APIVersion != "monitoring.coreos.com/v1" || rule.Kind != "PrometheusRule" {
		t.Fatalf("prometheusrule.yaml is a %q", rule.Kind)
	}
	var groups ruleGroups
	if err := json.Unmarshal(rule.Spec, &groups); err != nil {
		t.Fatal(err)
	}
	rulesFile, err := yaml.JSONToYAML(rule.Spec)
	if err != nil {
		t.Fatal(err)
	}
	return groups, rulesFile
}

func runPromtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(testenv.Tool(t, "promtool"), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestAlertRules checks the rules with promtool and runs their unit tests,
// which must cover every alert.
func TestAlertRules(t *testing.T) {
	groups, rulesFile := readRules(t)
	dir := t.TempDir()
	tests, err := os.ReadFile(repoPath("config", "monitoring", "prometheusrule_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"rules.yaml": rulesFile, "tests.yaml": tests} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out := runPromtool(t, dir, "check", "rules", "--lint=all", "--lint-fatal", "rules.yaml"); !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool check rules:\n%s", out)
	}
	if out := runPromtool(t, dir, "test", "rules", "tests.yaml"); !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules:\n%s", out)
	}

	tested := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+alertname: (\S+)$`).FindAllStringSubmatch(string(tests), -1) {
		tested[m[1]] = true
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" && !tested[r.Alert] {
				t.Errorf("alert %s has no promtool unit test", r.Alert)
			}
		}
	}
}

// grafanaVariables are what Grafana substitutes in a query before Prometheus
// sees it, replaced as the dashboard linter does, by values that parse.
var grafanaVariables = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h", "$namespace", "ns")

type dashboardQuery struct{ panel, expr string }

func readDashboard(t *testing.T) (dashboard.Dashboard, []dashboardQuery) {
	t.Helper()
	data, err := os.ReadFile(repoPath("config", "monitoring", "dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	plugins.RegisterDefaultPlugins()
	var d dashboard.Dashboard
	if err := noErrors(d.UnmarshalJSONStrict(data)); err != nil {
		t.Fatalf("dashboard.json is not a Grafana dashboard by Grafana's schema: %v", err)
	}
	if err := noErrors(d.Validate()); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	// The SDK's Dashboard checks every panel (the errors above) but keeps
	// none, and its Panel no query: both take the SDK's own empty error list
	// for a failure. So panels and queries are decoded, as strictly, one by one.
	var raw struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	d.Panels = nil
	for i, rawPanel := range raw.Panels {
		var p dashboard.PanelOrRowPanel
		var kind struct{ Type string }
		err := json.Unmarshal(rawPanel, &kind)
		if kind.Type == "row" {
			p.RowPanel = &dashboard.RowPanel{}
			err = errors.Join(err, noErrors(p.RowPanel.UnmarshalJSONStrict(rawPanel)))
		} else {
			p.Panel = &dashboard.Panel{}
			err = errors.Join(err, noErrors(p.Panel.UnmarshalJSONStrict(rawPanel)))
		}
		var targets struct{ Targets []json.RawMessage }
		err = errors.Join(err, json.Unmarshal(rawPanel, &targets))
		for _, rawTarget := range targets.Targets {
			q := &prometheus.Dataquery{}
			err = errors.Join(err, noErrors(q.UnmarshalJSONStrict(rawTarget)))
			if p.Panel != nil {
				p.Panel.Targets = append(p.Panel.Targets, q)
			}
		}
		if err != nil {
			t.Fatalf("dashboard.json panels[%d]: %v", i, err)
		}
		d.Panels = append(d.Panels, p)
	}
	var queries []dashboardQuery
	for _, p := range panels(d) {
		for _, target := range p.Targets {
			q, ok := target.(*prometheus.Dataquery)
			if !ok {
				t.Errorf("panel %q: a target of type %T, not a Prometheus query", title(p), target)
				continue
			}
			queries = append(queries, dashboardQuery{title(p), q.Expr})
		}
	}
	return d, queries
}

// noErrors turns the SDK's empty list of errors, which it returns as a
// non-nil error, into nil.
func noErrors(err error) error {
	var list cog.BuildErrors
	if errors.As(err, &list) && len(list) == 0 {
		return nil
	}
	return err
}

func panels(d dashboard.Dashboard) []*dashboard.Panel {
	var out []*dashboard.Panel
	for _, p := range d.Panels {
		if p.Panel != nil {
			out = append(out, p.Panel)
		}
		if p.RowPanel != nil {
			for _, inner := range p.RowPanel.Panels {
				out = append(out, &inner)
			}
		}
	}
	return out
}

func title(p *dashboard.Panel) string {
	if p.Title == nil {
		return "(untitled)"
	}
	return *p.Title
}

// TestDashboardLints applies the rules of Grafana's dashboard linter to the
// dashboard: a datasource variable every panel and query uses, queries that
// parse, rates over $__rate_interval, titles, descriptions and units, the
// operator-namespace variable in every selector, and a layout without overlaps.
func TestDashboardLints(t *testing.T) {
	d, queries := readDashboard(t)
	vars := map[string]dashboard.VariableModel{}
	if d.Templating.List != nil {
		for _, v := range d.Templating.List {
			vars[v.Name] = v
		}
	}
	if v, ok := vars["datasource"]; !ok || v.Type != dashboard.VariableTypeDatasource || v.Query == nil || v.Query.String == nil || *v.Query.String != "prometheus" {
		t.Errorf("no datasource variable of type prometheus: %+v", vars["datasource"])
	}
	if _, ok := vars["namespace"]; !ok {
		t.Errorf("no namespace variable")
	}
	if d.Uid == nil || *d.Uid == "" || d.Title == nil || *d.Title == "" {
		t.Errorf("the dashboard needs a uid and a title")
	}

	ids := map[uint32]bool{}
	type cell struct{ x, y uint32 }
	taken := map[cell]string{}
	for _, p := range panels(d) {
		name := title(p)
		if p.Id == nil || ids[*p.Id] {
			t.Errorf("panel %q: missing or duplicate id", name)
		} else {
			ids[*p.Id] = true
		}
		if p.Title == nil || *p.Title == "" || p.Description == nil || *p.Description == "" {
			t.Errorf("panel %q: needs a title and a description", name)
		}
		if p.Datasource == nil || p.Datasource.Uid == nil || *p.Datasource.Uid != "${datasource}" {
			t.Errorf("panel %q: does not use the ${datasource} variable", name)
		}
		if p.FieldConfig == nil || p.FieldConfig.Defaults.Unit == nil || *p.FieldConfig.Defaults.Unit == "" {
			t.Errorf("panel %q: no unit", name)
		}
		for _, target := range p.Targets {
			if q, ok := target.(*prometheus.Dataquery); ok && (q.Datasource == nil || q.Datasource.Uid == nil || *q.Datasource.Uid != "${datasource}") {
				t.Errorf("panel %q: a query does not use the ${datasource} variable", name)
			}
		}
		if g := p.GridPos; g == nil || g.X+g.W > 24 {
			t.Errorf("panel %q: no grid position inside the 24 columns", name)
		} else {
			for x := g.X; x < g.X+g.W; x++ {
				for y := g.Y; y < g.Y+g.H; y++ {
					if other, ok := taken[cell{x, y}]; ok {
						t.Errorf("panel %q overlaps panel %q", name, other)
						x, y = g.X+g.W, g.Y+g.H
					}
					taken[cell{x, y}] = name
				}
			}
		}
	}

	if len(queries) == 0 {
		t.Fatal("the dashboard has no queries")
	}
	rate := regexp.MustCompile(`\b(rate|irate|increase)\(([^()]|\([^()]*\))*\[([^\]]+)\]`)
	for _, q := range queries {
		if _, err := promql.ParseExpr(grafanaVariables.Replace(q.expr)); err != nil {
			t.Errorf("panel %q: query does not parse: %v\n  %s", q.panel, err, q.expr)
		}
		for _, m := range rate.FindAllStringSubmatch(q.expr, -1) {
			if m[3] != "$__rate_interval" {
				t.Errorf("panel %q: %s over [%s], not [$__rate_interval]", q.panel, m[1], m[3])
			}
		}
		for _, sel := range selectors(t, q.expr) {
			if !strings.Contains(sel, `namespace=~"$namespace"`) {
				t.Errorf("panel %q: selector %s ignores the namespace variable", q.panel, sel)
			}
		}
	}
}

// selectors returns the vector selectors of a dashboard query as written.
func selectors(t *testing.T, expr string) []string {
	t.Helper()
	parsed, err := promql.ParseExpr(grafanaVariables.Replace(expr))
	if err != nil {
		return nil
	}
	var out []string
	promql.Inspect(parsed, func(node promql.Node, _ []promql.Node) error {
		if vs, ok := node.(*promql.VectorSelector); ok {
			start, end := vs.PositionRange().Start, vs.PositionRange().End
			out = append(out, grafanaVariables.Replace(expr)[start:end])
		}
		return nil
	})
	// Report them with the variable as written.
	for i := range out {
		out[i] = strings.ReplaceAll(out[i], `namespace=~"ns"`, `namespace=~"$namespace"`)
	}
	return out
}

// TestQueriedMetricsAreExported proves every metric the rules and the
// dashboard query is one the operator's code registers, by its name in the
// source: this module's and controller-runtime's (whose reconcile metrics the
// rules use).
func TestQueriedMetricsAreExported(t *testing.T) {
	exported := registeredMetrics(t, testenv.RepoRoot())
	crDir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/controller-runtime").Output()
	if err != nil {
		t.Fatalf("locating controller-runtime: %v", err)
	}
	for name := range registeredMetrics(t, strings.TrimSpace(string(crDir))) {
		exported[name] = true
	}
	for _, name := range []string{"whatsapp_receiver_deliveries_total", "controller_runtime_reconcile_errors_total", "whatsapp_receiver_request_duration_seconds_bucket"} {
		if !exported[name] {
			t.Fatalf("the scan of the source misses %s, which the operator registers: the scan is broken", name)
		}
	}

	queried := map[string][]string{}
	groups, _ := readRules(t)
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			for _, m := range metricNames(t, r.Expr) {
				queried[m] = append(queried[m], "alert "+r.Alert)
			}
		}
	}
	_, queries := readDashboard(t)
	for _, q := range queries {
		for _, m := range metricNames(t, grafanaVariables.Replace(q.expr)) {
			queried[m] = append(queried[m], "panel "+q.panel)
		}
	}
	if len(queried) < 5 {
		t.Fatalf("found only %d queried metrics", len(queried))
	}
	for name, users := range queried {
		if !exported[name] {
			t.Errorf("%s (queried by %s) is not a metric the operator exports", name, strings.Join(slices.Compact(users), ", "))
		}
	}
}

func metricNames(t *testing.T, expr string) []string {
	t.Helper()
	parsed, err := promql.ParseExpr(expr)
	if err != nil {
		t.Errorf("%v: %s", err, expr)
		return nil
	}
	var names []string
	promql.Inspect(parsed, func(node promql.Node, _ []promql.Node) error {
		if vs, ok := node.(*promql.VectorSelector); ok {
			if vs.Name == "" {
				t.Errorf("selector %s names no metric", vs)
			}
			names = append(names, vs.Name)
		}
		return nil
	})
	return names
}

// registeredMetrics scans the Go source under root (tests and testdata aside)
// for the metrics it declares: prometheus.{Counter,Gauge,Histogram,Summary}Opts
// literals and prometheus.NewDesc calls, naming histograms by their series.
func registeredMetrics(t *testing.T, root string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "vendor" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		consts := stringConstants(file)
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				kind := optsKind(n.Type)
				if kind == "" {
					return true
				}
				var parts [3]string // namespace, subsystem, name
				for _, elt := range n.Elts {
					kv, ok := elt.(*ast.KeyValueExpr)
					key, _ := kv.Key.(*ast.Ident)
					if !ok || key == nil {
						continue
					}
					value := stringValue(kv.Value, consts)
					switch key.Name {
					case "Namespace":
						parts[0] = value
					case "Subsystem":
						parts[1] = value
					case "Name":
						parts[2] = value
					}
				}
				if parts[2] == "" {
					return true
				}
				var nonEmpty []string
				for _, p := range parts {
					if p != "" {
						nonEmpty = append(nonEmpty, p)
					}
				}
				name := strings.Join(nonEmpty, "_")
				names[name] = true
				if kind == "HistogramOpts" || kind == "SummaryOpts" {
					for _, suffix := range []string{"_bucket", "_sum", "_count"} {
						names[name+suffix] = true
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "NewDesc" && len(n.Args) > 0 {
					if name := stringValue(n.Args[0], consts); name != "" {
						names[name] = true
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatalf("scanning %s: %v", root, err)
	}
	return names
}

func optsKind(expr ast.Expr) string {
	sel, ok := expr.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	switch sel.Sel.Name {
	case "CounterOpts", "GaugeOpts", "HistogramOpts", "SummaryOpts":
		return sel.Sel.Name
	}
	return ""
}

// stringConstants are a file's string constants, by name.
func stringConstants(file *ast.File) map[string]string {
	consts := map[string]string{}
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i < len(vs.Values) {
					if s := stringValue(vs.Values[i], nil); s != "" {
						consts[name.Name] = s
					}
				}
			}
		}
	}
	return consts
}

func stringValue(expr ast.Expr, consts map[string]string) string {
	switch e := expr.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			if err == nil {
				return s
			}
		}
	case *ast.Ident:
		return consts[e.Name]
	}
	return ""
}
