package architecture

import (
	"strings"
	"testing"
)

// TestParserStandsAlone: the webhook parser reads hostile bodies and is
// fuzzed on its own, so it depends on neither Kubernetes nor the API, nor on
// any other package of the module: what it decides is in its own folder.
func TestParserStandsAlone(t *testing.T) {
	const parser = module + "/webhookreceiver/payload"
	deps := strings.Fields(string(goList(t, "-deps", "./webhookreceiver/payload")))
	if len(deps) < 10 || deps[len(deps)-1] != parser {
		t.Fatalf("go list -deps gave %d packages, ending with %q: the test is not reading the parser", len(deps), deps[len(deps)-1])
	}
	for _, d := range deps {
		if strings.Contains(d, "k8s.io/") || d != parser && strings.HasPrefix(d, module+"/") {
			t.Errorf("the parser depends on %s", d)
		}
	}
}
