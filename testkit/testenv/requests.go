package testenv

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/kubernetes"
)

// Requests is how many requests for resource (and subresource, "" for the
// resource itself) with the HTTP verb (GET, PUT, POST, ...) the API server has
// served so far, by its own count (apiserver_request_total), whatever client
// sent them: what a test asserts when it says what an operation costs.
func (e *Env) Requests(t testing.TB, resource, subresource, verb string) float64 {
	t.Helper()
	kc, err := kubernetes.NewForConfig(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := kc.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatalf("reading the API server's metrics: %v", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("parsing the API server's metrics: %v", err)
	}
	var n float64
	for _, m := range families["apiserver_request_total"].GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		if l["resource"] == resource && l["subresource"] == subresource && l["verb"] == verb {
			n += m.GetCounter().GetValue()
		}
	}
	return n
}
