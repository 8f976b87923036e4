//go:build cluster

package cluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// TestPodHardening looks at the manager's processes on the node: they run as the
// non-root user with no capabilities, no privilege escalation and the runtime's
// seccomp filter, on a read-only root filesystem with no shell to exec, inside the
// memory and CPU limits config/default sets, and the probes config/default sets
// keep them Ready without a restart.
func TestPodHardening(t *testing.T) {
	installed(t)
	want := renderedManager(t)
	memLimit := want.Resources.Limits.Memory().Value()
	cpuQuota := want.Resources.Limits.Cpu().MilliValue() * 100 // per 100 ms CFS period

	for _, pod := range listPods(t) {
		t.Run(pod.Name, func(t *testing.T) {
			got := pod.Spec.Containers[0]
			for what, pair := range map[string][2]any{
				"resources":       {got.Resources, want.Resources},
				"liveness probe":  {got.LivenessProbe, defaulted(want.LivenessProbe)},
				"readiness probe": {got.ReadinessProbe, defaulted(want.ReadinessProbe)},
				"securityContext": {got.SecurityContext, want.SecurityContext},
			} {
				if !reflect.DeepEqual(pair[0], pair[1]) {
					t.Errorf("%s: the pod has %+v, config/default sets %+v", what, pair[0], pair[1])
				}
			}

			cg := containerCgroup(t, pod)
			if limit := readInt(t, filepath.Join("/sys/fs/cgroup/memory", cg, "memory.limit_in_bytes")); limit != memLimit {
				t.Errorf("memory cgroup limit %d, want %d", limit, memLimit)
			}
			if quota := readInt(t, filepath.Join("/sys/fs/cgroup/cpu", cg, "cpu.cfs_quota_us")); quota != cpuQuota {
				t.Errorf("CPU quota %dµs per 100ms, want %d", quota, cpuQuota)
			}
			pid := readInt(t, filepath.Join("/sys/fs/cgroup/memory", cg, "cgroup.procs"))
			status := procFields(t, pid)
			for field, value := range map[string]string{
				"Uid": "65532\t65532\t65532\t65532", "Gid": "65532\t65532\t65532\t65532",
				"CapEff": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2",
			} {
				if status[field] != value {
					t.Errorf("/proc/%d/status %s: %q, want %q", pid, field, status[field], value)
				}
			}
			if opts := rootMountOptions(t, pid); !strings.HasPrefix(opts, "ro,") {
				t.Errorf("root filesystem mounted %q, want read-only", opts)
			}

			// The Go runtime's soft limit is 90% of the container's (internal/memlimit).
			if got, want := goMemLimit(t, pod), int64(float64(memLimit)*0.9); got != want {
				t.Errorf("go_gc_gomemlimit_bytes %d, want 90%% of the container's %d: %d", got, memLimit, want)
			}

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if out, err := kubectl(ctx, nil, "exec", "-n", systemNamespace, pod.Name, "--", "/bin/sh", "-c", "true"); err == nil ||
				!strings.Contains(err.Error(), "no such file or directory") {
				t.Errorf("exec /bin/sh in the manager's container: %q, %v; want no shell in the image", out, err)
			}
		})
	}

	// Liveness: the probe has been asked several times by now and never failed.
	probed := time.Duration(want.LivenessProbe.InitialDelaySeconds+2*want.LivenessProbe.PeriodSeconds) * time.Second
	for _, pod := range listPods(t) {
		if wait := time.Until(pod.Status.StartTime.Add(probed)); wait > 0 {
			time.Sleep(wait)
		}
	}
	for _, pod := range listPods(t) {
		if n := pod.Status.ContainerStatuses[0].RestartCount; n != 0 || !podReady(pod) {
			t.Errorf("pod %s: %d restarts, ready %v, after %s of probes", pod.Name, n, podReady(pod), probed)
		}
	}
}

// goMemLimit is the Go memory limit a pod's manager reports on its metrics port,
// scraped as the ServiceMonitor does: over HTTPS, not verifying the self-signed
// certificate, with the token of a ServiceAccount bound to the metrics-reader role.
func goMemLimit(t *testing.T, pod corev1.Pod) int64 {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://"+pod.Status.PodIP+":8443/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+metricsReaderToken(t))
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("metrics of %s: %v", pod.Name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics of %s: %s: %s", pod.Name, resp.Status, raw)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if value, ok := strings.CutPrefix(line, "go_gc_gomemlimit_bytes "); ok {
			f, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("go_gc_gomemlimit_bytes %q: %v", value, err)
			}
			return int64(f)
		}
	}
	t.Fatalf("%s reports no go_gc_gomemlimit_bytes", pod.Name)
	return 0
}

// metricsReaderToken is a token of a ServiceAccount bound to the metrics-reader
// ClusterRole, as a user's Prometheus is.
func metricsReaderToken(t *testing.T) string {
	t.Helper()
	const binding = `apiVersion: v1
kind: ServiceAccount
metadata: {name: metrics-scraper, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: test-cluster-metrics-scraper}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: whatsapp-commerce-metrics-reader}
subjects: [{kind: ServiceAccount, name: metrics-scraper, namespace: default}]
`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := kubectl(ctx, []byte(binding), "apply", "--server-side", "-f", "-"); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(mustKubectl(t, "create", "token", "metrics-scraper", "-n", "default", "--duration=10m"))
}

// defaulted is a probe as the API server stores it: with its documented defaults.
func defaulted(p *corev1.Probe) *corev1.Probe {
	p = p.DeepCopy()
	if p.HTTPGet != nil && p.HTTPGet.Scheme == "" {
		p.HTTPGet.Scheme = corev1.URISchemeHTTP
	}
	for field, def := range map[*int32]int32{&p.TimeoutSeconds: 1, &p.SuccessThreshold: 1, &p.FailureThreshold: 3} {
		if *field == 0 {
			*field = def
		}
	}
	return p
}

// renderedManager is the manager container as the overlay renders it.
func renderedManager(t *testing.T) corev1.Container {
	t.Helper()
	out := mustKubectl(t, "kustomize", overlay)
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(out), 4096)
	for {
		var dep appsv1.Deployment
		if err := dec.Decode(&dep); err != nil {
			t.Fatalf("no Deployment in %s: %v", overlay, err)
		}
		if dep.Kind == "Deployment" && dep.Name == deploymentName {
			return dep.Spec.Template.Spec.Containers[0]
		}
	}
}

// containerCgroup is the cgroup (relative to a v1 hierarchy's root) the kubelet
// put the pod's manager container in: kubepods/<qos>/pod<uid>/<container id>.
func containerCgroup(t *testing.T, pod corev1.Pod) string {
	t.Helper()
	_, id, _ := strings.Cut(pod.Status.ContainerStatuses[0].ContainerID, "://")
	matches, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup/memory/kubepods", "*", "pod"+string(pod.UID), id))
	matches2, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup/memory/kubepods", "pod"+string(pod.UID), id))
	matches = append(matches, matches2...)
	if len(matches) != 1 {
		t.Fatalf("cgroup of container %s of pod %s: found %v", id, pod.Name, matches)
	}
	rel, _ := filepath.Rel("/sys/fs/cgroup/memory", matches[0])
	return rel
}

func readInt(t *testing.T, path string) int64 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(raw)), "\n")
	n, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return n
}

func procFields(t *testing.T, pid int64) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fields
}

// rootMountOptions are the mount options of / as the process sees it.
func rootMountOptions(t *testing.T, pid int64) string {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) > 5 && f[4] == "/" {
			return f[5]
		}
	}
	t.Fatalf("no root mount in /proc/%d/mountinfo", pid)
	return ""
}
