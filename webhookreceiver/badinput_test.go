package webhookreceiver_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// cloudOrder is a Cloud body with one order of items.
func cloudOrder(items ...payload.Item) []byte {
	return cloudOrders(map[string][]payload.Item{"bad-input": items})
}

func TestBadInputIsRefusedAndStoresNothing(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	path := ch.Status.WebhookPath
	valid := sample(t, "cloud-order-multi-item.json")
	signed := func(body []byte) map[string]string {
		return map[string]string{"X-Hub-Signature-256": sign(body)}
	}
	huge := append([]byte(`{"object":"whatsapp_business_account","entry":[],"pad":"`), bytes.Repeat([]byte("x"), webhookreceiver.MaxBodyBytes)...)
	huge = append(huge, `"}`...)

	cases := []struct {
		name   string
		method string
		path   string
		body   []byte
		header map[string]string
		code   int
	}{
		{"not JSON", "POST", path, []byte("order=1"), signed([]byte("order=1")), 400},
		{"JSON array", "POST", path, []byte(`[{"object":"whatsapp_business_account"}]`), signed([]byte(`[{"object":"whatsapp_business_account"}]`)), 400},
		{"JSON of another webhook object", "POST", path, []byte(`{"object":"page","entry":[]}`), signed([]byte(`{"object":"page","entry":[]}`)), 400},
		{"Cloud body without entry", "POST", path, []byte(`{"object":"whatsapp_business_account"}`), signed([]byte(`{"object":"whatsapp_business_account"}`)), 400},
		{"empty body", "POST", path, nil, signed(nil), 400},
		{"huge body", "POST", path, huge, signed(huge), 413},
		{"missing signature", "POST", path, valid, map[string]string{}, 401},
		{"signature with another secret", "POST", path, valid, map[string]string{"X-Hub-Signature-256": signWith("not-the-app-secret", valid)}, 401},
		{"signature of a different body", "POST", path, valid, signed(sample(t, "cloud-product-inquiry.json")), 401},
		{"non-hex signature", "POST", path, valid, map[string]string{"X-Hub-Signature-256": "sha256=" + strings.Repeat("zz", 32)}, 401},
		{"signature without prefix", "POST", path, valid, map[string]string{"X-Hub-Signature-256": strings.TrimPrefix(sign(valid), "sha256=")}, 401},
		{"unknown path", "POST", "/webhooks/" + strings.Repeat("0", 64), valid, signed(valid), 404},
		{"path outside /webhooks", "POST", "/", valid, signed(valid), 404},
		{"wrong verify token", "GET", path + "?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=123", nil, nil, 403},
		{"GET with no parameters", "GET", path, nil, nil, 400},
		{"wrong method", "PUT", path, valid, signed(valid), 405},
		{"DELETE", "DELETE", path, nil, nil, 405},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := tc.header
			if header == nil && tc.method == "POST" {
				header = signed(tc.body)
			}
			r := do(t, tc.method, tc.path, tc.body, header)
			if r.code != tc.code {
				t.Fatalf("answer %d %s, want %d", r.code, r.body, tc.code)
			}
			if tc.code != 405 && !strings.Contains(r.body, "error") && !strings.Contains(r.body, "invalid") {
				t.Errorf("answer body %q does not say what is wrong", r.body)
			}
			if n := len(orders(t, ch.Namespace)) + len(inquiries(t, ch.Namespace)); n != 0 {
				t.Fatalf("%d resources created", n)
			}
		})
	}
}

func TestVerificationHandshake(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	r := do(t, "GET", ch.Status.WebhookPath+"?hub.mode=subscribe&hub.verify_token="+verifyToken+"&hub.challenge=1158201444", nil, nil)
	if r.code != http.StatusOK || r.body != "1158201444" {
		t.Fatalf("handshake answered %d %q, want 200 with the challenge", r.code, r.body)
	}

	noToken := newChannel(t, channelOpts{api: commercev1alpha1.APICloud, secret: map[string]string{
		commercev1alpha1.SecretKeyWebhookToken: "another-long-random-webhook-token", commercev1alpha1.SecretKeyAppSecret: appSecret}})
	r = do(t, "GET", noToken.Status.WebhookPath+"?hub.mode=subscribe&hub.verify_token=&hub.challenge=1", nil, nil)
	if r.code != http.StatusForbidden {
		t.Fatalf("handshake without a configured verify token answered %d, want 403", r.code)
	}
}

// TestNeverStorableElementsAreAcknowledgedAndKept posts bodies whose one
// element can never be stored: each is answered 200, lists the element, and
// keeps it verbatim in a ConfigMap that kubectl shows; a redelivery finds the
// same ConfigMap.
func TestNeverStorableElementsAreAcknowledgedAndKept(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	valid := sample(t, "cloud-order-multi-item.json")
	nonNumeric := []byte(strings.Replace(string(cloudOrder(item(2, "1", "USD"))), `"quantity":2`, `"quantity":"two"`, 1))
	cases := []struct {
		name   string
		body   []byte
		reason string
	}{
		{"order with no items", cloudOrder(), "the cart has no items"},
		{"negative quantity", cloudOrder(item(-1, "1", "USD")), "quantity -1"},
		{"zero quantity", cloudOrder(item(0, "1", "USD")), "quantity 0"},
		{"non-numeric quantity", nonNumeric, `quantity "two" is not a number`},
		{"price that is not a decimal", cloudOrder(item(1, "7,99", "USD")), "7,99"},
		{"negative price", cloudOrder(item(1, "-7.99", "USD")), "-7.99"},
		{"unknown currency code", cloudOrder(item(1, "1", "XYZ")), "XYZ"},
		{"mixed currencies", cloudOrder(item(1, "1", "USD"), item(1, "1", "EUR")), "EUR"},
		{"customer name longer than the schema allows", []byte(strings.Replace(string(valid), "Sheena Nelson", strings.Repeat("n", 300), 1)), "the API server refuses it"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Each its own message, as WhatsApp would send them.
			tc.body = bytes.ReplaceAll(tc.body, []byte("wamid.bad-input"), fmt.Appendf(nil, "wamid.bad-%d", i))
			tc.body = bytes.ReplaceAll(tc.body, []byte(`"id":"wamid.HBgL`), fmt.Appendf(nil, `"id":"wamid.%dHBgL`, i))
			r := post(t, ch.Status.WebhookPath, tc.body, appSecret)
			if r.code != http.StatusOK {
				t.Fatalf("answer %d %s, want 200", r.code, r.body)
			}
			var rep struct {
				Refused []struct{ Path, MessageID, Reason, ConfigMap, Kept string }
			}
			if err := json.Unmarshal([]byte(r.body), &rep); err != nil || len(rep.Refused) != 1 {
				t.Fatalf("answer %s lists no refused element (%v)", r.body, err)
			}
			got := rep.Refused[0]
			if got.Path != "entry[0].changes[0].value.messages[0]" || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("refused %+v, want the message, reason containing %q", got, tc.reason)
			}
			var cm corev1.ConfigMap
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ch.Namespace, Name: got.ConfigMap}, &cm); err != nil {
				t.Fatalf("the refused element's ConfigMap: %v", err)
			}
			raw := payload.Locate(tc.body, []string{got.Path})[0]
			index := refusedIndex(t, &cm)
			if len(index) != 1 || index[0].Path != got.Path || index[0].Reason != got.Reason || index[0].MessageID != got.MessageID ||
				index[0].Kept != "whole" || got.Kept != "whole" || cm.Data[index[0].Key] != string(raw) {
				t.Errorf("ConfigMap data %v does not keep the element %s verbatim with %+v", cm.Data, raw, got)
			}
			if cm.Labels[commercev1alpha1.LabelChannel] != "shop" || cm.Labels[webhookreceiver.LabelRefused] != "true" {
				t.Errorf("ConfigMap labels %v", cm.Labels)
			}
			// The channel sets no retention and there is no archive: the
			// channel deletes nothing, so its refused elements do not expire.
			if expires, ok := cm.Annotations[webhookreceiver.AnnotationExpires]; ok {
				t.Errorf("expires-at %q on a channel that deletes nothing; want none", expires)
			}
			if len(cm.OwnerReferences) != 1 || cm.OwnerReferences[0].UID != ch.UID {
				t.Errorf("owner references %+v, want the channel", cm.OwnerReferences)
			}
			if n := len(orders(t, ch.Namespace)); n != 0 {
				t.Fatalf("%d orders created", n)
			}
			again := post(t, ch.Status.WebhookPath, tc.body, appSecret)
			if again.code != http.StatusOK || !strings.Contains(again.body, got.ConfigMap) {
				t.Errorf("redelivery answered %d %s, want 200 naming %s", again.code, again.body, got.ConfigMap)
			}
		})
	}
	var kept corev1.ConfigMapList
	if err := env.Client.List(ctx, &kept, client.InNamespace(ch.Namespace), client.MatchingLabels{webhookreceiver.LabelRefused: "true"}); err != nil {
		t.Fatal(err)
	}
	if len(kept.Items) != len(cases) {
		t.Errorf("%d ConfigMaps kept for %d refused elements, each posted twice", len(kept.Items), len(cases))
	}
}

// refusedEntry is a line of a refused body's ConfigMap's index.
type refusedEntry struct {
	Path, MessageID, Reason, Key, Kept string
	Bytes                              int
}

// refusedIndex reads the index of what the body of cm refused.
func refusedIndex(t *testing.T, cm *corev1.ConfigMap) []refusedEntry {
	t.Helper()
	var index []refusedEntry
	if err := json.Unmarshal([]byte(cm.Data[webhookreceiver.RefusedKeyIndex]), &index); err != nil {
		t.Fatalf("ConfigMap %s: %s is not a JSON list: %v", cm.Name, webhookreceiver.RefusedKeyIndex, err)
	}
	return index
}

func TestInvalidElementDoesNotHideValidOnes(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	body := cloudOrders(map[string][]payload.Item{"bad": {item(1, "1", "XYZ")}, "good": {item(1, "2.50", "EUR")}})
	r := post(t, ch.Status.WebhookPath, body, appSecret)
	if r.code != http.StatusOK || !strings.Contains(r.body, "XYZ") {
		t.Fatalf("answer %d %s, want 200 naming the bad currency", r.code, r.body)
	}
	if rep := reportOf(t, r); rep["created"] != float64(1) {
		t.Errorf("report %s, want 1 created", r.body)
	}
	got := orders(t, ch.Namespace)
	if len(got) != 1 || got[0].Spec.MessageID != "wamid.good" || got[0].Spec.Items[0].ItemPrice != "2.50" {
		t.Fatalf("want only the valid order stored, got %+v", got)
	}
}

// refusedElement creates a ConfigMap labelled as a refused element, expiring
// at expires, owned by ch when it is not nil.
func refusedElement(t *testing.T, ns, name, expires string, ch *commercev1alpha1.WhatsAppChannel) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
		Labels: map[string]string{webhookreceiver.LabelRefused: "true"}, Annotations: map[string]string{webhookreceiver.AnnotationExpires: expires}}}
	if ch != nil {
		cm.OwnerReferences = []metav1.OwnerReference{{APIVersion: commercev1alpha1.GroupVersion.String(), Kind: "WhatsAppChannel", Name: ch.Name, UID: ch.UID}}
	}
	mustCreate(t, cm)
}

// configMapsLeft lists the names of the ConfigMaps in ns, sorted.
func configMapsLeft(t *testing.T, ns string) []string {
	t.Helper()
	var left corev1.ConfigMapList
	if err := env.Client.List(ctx, &left, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, cm := range left.Items {
		if cm.Name != "kube-root-ca.crt" {
			names = append(names, cm.Name)
		}
	}
	slices.Sort(names)
	return names
}

// TestSweeperDeletesExpiredRefusedElements runs one sweep against the real
// API server: what expired goes, what has not (or was edited to have no
// expiry) stays, and so does a tenant's own ConfigMap that carries the label
// and an expiry but no channel owns.
func TestSweeperDeletesExpiredRefusedElements(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	ns := ch.Namespace
	now := time.Now()
	expired := now.Add(-time.Minute).UTC().Format(time.RFC3339)
	refusedElement(t, ns, "expired", expired, ch)
	refusedElement(t, ns, "kept", now.Add(time.Hour).UTC().Format(time.RFC3339), ch)
	refusedElement(t, ns, "edited", "keep me", ch)
	refusedElement(t, ns, "tenants-own", expired, nil)
	mustCreate(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unrelated",
		Annotations: map[string]string{webhookreceiver.AnnotationExpires: expired}}})
	s := &webhookreceiver.RefusedSweeper{Client: env.Client, Reader: env.Client, Namespaces: []string{ns}}
	n, err := s.Sweep(ctx, now)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 deleted", n, err)
	}
	assertEqual(t, "ConfigMaps left", configMapsLeft(t, ns), []string{"edited", "kept", "tenants-own", "unrelated"})
}

// TestSweeperGoesOnPastAFailedDelete sweeps as an identity the API server
// lets delete only some of the expired elements: the one it refuses is
// reported, and the others are still deleted, in the same namespace and the next.
func TestSweeperGoesOnPastAFailedDelete(t *testing.T) {
	first := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	second := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	expired := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	for _, ch := range []*commercev1alpha1.WhatsAppChannel{first, second} {
		for _, name := range []string{"a-refused", "b-refused", "c-refused"} {
			refusedElement(t, ch.Namespace, name, expired, ch)
		}
		// The sweeper may delete b and c, not a (listed first).
		mustCreate(t, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ch.Namespace, Name: "sweeper"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"delete"},
				ResourceNames: []string{"b-refused", "c-refused"}}}})
		mustCreate(t, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ch.Namespace, Name: "sweeper"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "sweeper"},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "sweeper"}}})
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "sweeper"}
	sweeper, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	s := &webhookreceiver.RefusedSweeper{Client: sweeper, Reader: env.Client, Namespaces: []string{first.Namespace, second.Namespace}}
	deleted := 0
	var errs []error
	// The API server's authorizer learns of new Roles from its informers: sweep
	// until it lets the sweeper delete what the Role allows.
	testenv.Eventually(t, 30*time.Second, "the sweeper to delete b and c in both namespaces", func() bool {
		n, err := s.Sweep(ctx, time.Now())
		deleted += n
		errs = append(errs, err)
		return deleted == 4
	})
	last := errs[len(errs)-1]
	for _, ns := range []string{first.Namespace, second.Namespace} {
		assertEqual(t, "ConfigMaps left in "+ns, configMapsLeft(t, ns), []string{"a-refused"})
		if !apierrors.IsForbidden(last) || !strings.Contains(last.Error(), ns+"/a-refused") {
			t.Errorf("Sweep's error %v; want the refused delete of %s/a-refused", last, ns)
		}
	}
}
