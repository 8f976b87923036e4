package testenv

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var tools sync.Map // name -> *tool

type tool struct {
	once sync.Once
	path string
	err  error
}

// Tool is the path of a tool hack/tools.sh builds from the module proxy (helm,
// promtool), built on first use and then cached; once per test process.
func Tool(t testing.TB, name string) string {
	t.Helper()
	v, _ := tools.LoadOrStore(name, &tool{})
	tl := v.(*tool)
	tl.once.Do(func() {
		out, err := exec.Command(filepath.Join(RepoRoot(), "hack", "tools.sh"), name).Output()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			err = fmt.Errorf("%w: %s", err, exitErr.Stderr)
		}
		tl.path, tl.err = strings.TrimSpace(string(out)), err
	})
	if tl.err != nil {
		t.Fatalf("building %s with hack/tools.sh: %v", name, tl.err)
	}
	return tl.path
}
