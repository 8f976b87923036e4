package memlimit

import (
	"os"
	"path/filepath"
	"testing"
)

func TestContainer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"cgroup v2", map[string]string{"memory.max": "268435456\n"}, 256 << 20},
		{"cgroup v2 without a limit", map[string]string{"memory.max": "max\n"}, 0},
		{"cgroup v1", map[string]string{"memory/memory.limit_in_bytes": "268435456\n"}, 256 << 20},
		{"cgroup v1 without a limit", map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712\n"}, 0},
		{"no cgroup", nil, 0},
	} {
		root := t.TempDir()
		for name, content := range tc.files {
			path := filepath.Join(root, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := Container(root)
		if err != nil || got != tc.want {
			t.Errorf("%s: %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
}

func TestContainerRefusesGarbage(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "memory.max"), []byte("lots"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Container(root); err == nil {
		t.Error("an unreadable limit was taken for none")
	}
}
