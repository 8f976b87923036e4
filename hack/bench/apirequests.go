package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/rest"
)

// apiRequests counts the requests kube-apiserver served, from its own
// apiserver_request_total, by verb, resource (with subresource) and whether
// the answer was a write conflict (409). It sees every client, the operator's
// and the bench's alike, which the operator's own client metrics cannot tell
// apart from the bench's, and it names the resource, so Events show as what
// they cost.
type apiRequests map[requestKey]float64

type requestKey struct {
	verb, resource string
	conflict       bool
}

// readAPIRequests scrapes kube-apiserver's /metrics.
func readAPIRequests(ctx context.Context, cfg *rest.Config) (apiRequests, error) {
	c, err := apiServerClient(cfg)
	if err != nil {
		return nil, err
	}
	raw, err := c.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("scraping kube-apiserver's metrics: %w", err)
	}
	return parseAPIRequests(bytes.NewReader(raw))
}

func parseAPIRequests(r io.Reader) (apiRequests, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parsing kube-apiserver's metrics: %w", err)
	}
	reqs := apiRequests{}
	f, ok := families["apiserver_request_total"]
	if !ok {
		return reqs, nil
	}
	for _, m := range f.GetMetric() {
		resource := label(m, "resource")
		if resource == "" {
			continue // /metrics, /healthz, discovery
		}
		if sub := label(m, "subresource"); sub != "" {
			resource += "/" + sub
		}
		reqs[requestKey{verb: label(m, "verb"), resource: resource, conflict: label(m, "code") == "409"}] += m.GetCounter().GetValue()
	}
	return reqs, nil
}

// since is what r counted after earlier.
func (r apiRequests) since(earlier apiRequests) apiRequests {
	d := apiRequests{}
	for k, v := range r {
		if v -= earlier[k]; v > 0 {
			d[k] = v
		}
	}
	return d
}

// perObject lists the requests made per object of n, at least 0.01 each, by
// resource then verb: writes first, as they are what an object costs.
func (r apiRequests) perObject(n int) []string {
	type row struct {
		key       string
		n, errors float64
	}
	rows := map[string]*row{}
	for k, v := range r {
		if k.verb == "WATCH" || k.verb == "LIST" && k.resource == "leases" {
			continue
		}
		key := k.resource + " " + k.verb
		if rows[key] == nil {
			rows[key] = &row{key: key}
		}
		rows[key].n += v
		if k.conflict {
			rows[key].errors += v
		}
	}
	var out []string
	for _, rw := range rows {
		per := rw.n / float64(n)
		if per < 0.01 {
			continue
		}
		line := fmt.Sprintf("%s %.2f", rw.key, per)
		if rw.errors > 0 {
			line += fmt.Sprintf(" (%.0f conflicts)", rw.errors)
		}
		out = append(out, line)
	}
	slices.SortFunc(out, strings.Compare)
	return out
}

// writes is how many create, update, patch and delete requests r counts for
// resource ("" for every resource).
func (r apiRequests) writes(resource string) float64 {
	var n float64
	for k, v := range r {
		if resource != "" && k.resource != resource {
			continue
		}
		switch k.verb {
		case "POST", "PUT", "PATCH", "DELETE", "APPLY":
			n += v
		}
	}
	return n
}
