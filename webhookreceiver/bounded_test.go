package webhookreceiver_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// refusedConfigMaps are the ConfigMaps of refused elements in ns.
func refusedConfigMaps(t *testing.T, ns string) []corev1.ConfigMap {
	t.Helper()
	var list corev1.ConfigMapList
	if err := env.Client.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{webhookreceiver.LabelRefused: "true"}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// TestFourMiBOfNullsIsRefusedWholeAndKeptOnce posts the example, a
// signed Cloud body of the size limit made of null entries (about 838,840 of them):
// it is answered 413 within the receiver's deadline, since it holds more
// elements than a body may, and its first bytes are kept in one ConfigMap,
// which says it is cut, however often it is sent.
func TestFourMiBOfNullsIsRefusedWholeAndKeptOnce(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	prefix := `{"object":"whatsapp_business_account","entry":[`
	n := (webhookreceiver.MaxBodyBytes - len(prefix) - len("]}") + 1) / len("null,")
	body := []byte(prefix + strings.Repeat("null,", n-1) + "null]}")
	if len(body) > webhookreceiver.MaxBodyBytes || n < 838000 {
		t.Fatalf("the example is %d bytes of %d null entries, want the size limit's worth, about 838,840", len(body), n)
	}
	for range 2 {
		r := post(t, ch.Status.WebhookPath, body, appSecret)
		if r.code != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, fmt.Sprint(payload.MaxArrayMembers)) || r.retryAfter != "" {
			t.Fatalf("answer %d %s (Retry-After %q), want 413 naming the bound", r.code, r.body, r.retryAfter)
		}
	}
	kept := refusedConfigMaps(t, ch.Namespace)
	if len(kept) != 1 {
		t.Fatalf("%d ConfigMaps kept for one body sent twice, want 1", len(kept))
	}
	cm := &kept[0]
	index := refusedIndex(t, cm)
	if len(index) != 1 || index[0].Path != "" || index[0].Kept != "cut" || index[0].Bytes != len(body) ||
		!strings.Contains(index[0].Reason, "array members") || cm.Data[webhookreceiver.RefusedKeyTruncated] == "" {
		t.Fatalf("index %+v, truncated %q; want the body, cut, saying so", index, cm.Data[webhookreceiver.RefusedKeyTruncated])
	}
	if head := cm.Data[index[0].Key]; len(head) < 512<<10 || !bytes.HasPrefix(body, []byte(head)) {
		t.Errorf("ConfigMap holds %d bytes that are not the body's first", len(head))
	}
	if len(cm.OwnerReferences) != 1 || cm.OwnerReferences[0].UID != ch.UID || cm.Labels[commercev1alpha1.LabelChannel] != ch.Name {
		t.Errorf("ConfigMap owners %+v, labels %v; want the channel's", cm.OwnerReferences, cm.Labels)
	}
}

// TestManyRefusedElementsAreKeptInOneConfigMap posts a body just under the
// size limit and under the element bound, one order and 38,000 entries that
// can never be stored: the order is stored, the body answered 200 listing
// every refused element, and all of them are kept in one ConfigMap under
// 1 MiB, whole while they fit, which says what it does not hold.
func TestManyRefusedElementsAreKeptInOneConfigMap(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	order := cloudOrders(map[string][]payload.Item{"among-refused": {item(1, "5", "USD")}})
	const refused = 38000
	var b bytes.Buffer
	b.Write(order[:len(order)-2]) // the order's entry, its array left open
	for i := range refused {
		fmt.Fprintf(&b, `,"not an entry, number %06d: %s"`, i, strings.Repeat("x", 60))
	}
	b.WriteString("]}")
	body := b.Bytes()
	if len(body) > webhookreceiver.MaxBodyBytes || len(body) < 3<<20 {
		t.Fatalf("body of %d bytes, want just under the limit", len(body))
	}

	r := post(t, ch.Status.WebhookPath, body, appSecret)
	if r.code != http.StatusOK {
		t.Fatalf("answer %d %.500s, want 200", r.code, r.body)
	}
	var rep struct {
		Created int
		Refused []struct{ Path, Reason, ConfigMap, Kept string }
	}
	if err := json.Unmarshal([]byte(r.body), &rep); err != nil || rep.Created != 1 || len(rep.Refused) != refused {
		t.Fatalf("answer lists %d created, %d refused (%v); want 1 and %d", rep.Created, len(rep.Refused), err, refused)
	}
	if got := orders(t, ch.Namespace); len(got) != 1 {
		t.Fatalf("%d orders stored, want the one", len(got))
	}
	kept := refusedConfigMaps(t, ch.Namespace)
	if len(kept) != 1 || kept[0].Name != rep.Refused[0].ConfigMap {
		t.Fatalf("%d ConfigMaps kept, want 1, named in the answer", len(kept))
	}
	cm := &kept[0]
	index := refusedIndex(t, cm)
	paths := make([]string, refused)
	for i := range paths {
		paths[i] = rep.Refused[i].Path
	}
	located := payload.Locate(body, paths)
	count := map[string]int{}
	for i, got := range rep.Refused {
		count[got.Kept]++
		if got.ConfigMap != cm.Name {
			t.Fatalf("refused %d kept in %s, not the body's %s", i, got.ConfigMap, cm.Name)
		}
		if got.Kept == "no" {
			if i < len(index) {
				t.Fatalf("refused %d listed in the ConfigMap, but the answer says not", i)
			}
			continue
		}
		e := index[i]
		if e.Path != got.Path || e.Reason != got.Reason || e.Kept != got.Kept || e.Bytes != len(located[i]) {
			t.Fatalf("ConfigMap lists %+v, the answer %+v", e, got)
		}
		if got.Kept == "whole" && cm.Data[e.Key] != string(located[i]) {
			t.Fatalf("ConfigMap holds %q for %s, want %s verbatim", cm.Data[e.Key], e.Path, located[i])
		}
	}
	if count["whole"] < 1000 || count["no"] == 0 || cm.Data[webhookreceiver.RefusedKeyTruncated] == "" {
		t.Errorf("kept %v, truncated %q; want a thousand or more whole, the rest said to be left out", count, cm.Data[webhookreceiver.RefusedKeyTruncated])
	}
	size := 0
	for k, v := range cm.Data {
		size += len(k) + len(v)
	}
	if size > 1<<20 {
		t.Errorf("ConfigMap data is %d bytes, over 1 MiB", size)
	}
}
