package webhookreceiver

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// TestRefusedConfigMapStaysUnderItsBound lays out what bodies refused: an
// element larger than a ConfigMap is cut between characters, JSON strings
// that are not UTF-8 are kept as bytes, and the data never passes
// maxKeptBytes, whatever the number and size of the elements.
func TestRefusedConfigMapStaysUnderItsBound(t *testing.T) {
	ch := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop", UID: "u"}}
	el := func(path string) *payload.Element {
		return &payload.Element{Kind: payload.KindInvalid, Path: path, Reason: strings.Repeat("\"<why>\" ", 10)}
	}
	size := func(layout []string, raws ...json.RawMessage) (int, []string) {
		els := make([]*payload.Element, len(raws))
		for i := range raws {
			els[i] = el(layout[i])
		}
		cm, kept := refusedConfigMap(ch, false, []byte("body"), els, raws, time.Now())
		n := 0
		for k, v := range cm.Data {
			n += len(k) + len(v)
			if !utf8.ValidString(v) {
				t.Errorf("data %s is not UTF-8", k)
			}
		}
		for k, v := range cm.BinaryData {
			n += len(k) + len(v)
		}
		if n > maxKeptBytes {
			t.Errorf("ConfigMap of %d bytes, over %d", n, maxKeptBytes)
		}
		return n, kept
	}

	huge := json.RawMessage(`"` + strings.Repeat("é", 600<<10) + `"`)
	if _, kept := size([]string{"entry[0]"}, huge); kept[0] != keptCut {
		t.Errorf("an element of %d bytes kept %s, want cut", len(huge), kept[0])
	}
	notUTF8 := json.RawMessage("\"\xff\xfe\"")
	cm, kept := refusedConfigMap(ch, false, nil, []*payload.Element{el("statuses[0]")}, []json.RawMessage{notUTF8}, time.Now())
	if kept[0] != keptWhole || string(cm.BinaryData[refusedElementKey(0)]) != string(notUTF8) {
		t.Errorf("kept %s, binary data %q; want the bytes whole", kept[0], cm.BinaryData)
	}

	many := make([]json.RawMessage, 20000)
	paths := make([]string, len(many))
	for i := range many {
		many[i], paths[i] = json.RawMessage(`{"id":"`+strings.Repeat("m", 100)+`"}`), "messages["+strings.Repeat("9", 5)+"]"
	}
	_, kept = size(paths, many...)
	if kept[0] != keptWhole || kept[len(kept)-1] != keptNot {
		t.Errorf("of 20,000 elements the first kept %s and the last %s; want whole, and not at all", kept[0], kept[len(kept)-1])
	}
}

// TestRefusedElementsExpireWithTheChannelsResources: a refused element is
// kept as long as the channel keeps its resources: its retention when set,
// the default one when the operator archives, and for good (no expiry, so
// the sweeper keeps it) when the channel deletes nothing.
func TestRefusedElementsExpireWithTheChannelsResources(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	for _, tc := range []struct {
		name      string
		retention time.Duration
		archiving bool
		want      string // expires-at, "" for none
	}{
		{"no retention, no archive", 0, false, ""},
		{"no retention, an archive", 0, true, now.Add(commercev1alpha1.DefaultRetention).Format(time.RFC3339)},
		{"a retention, no archive", week, false, now.Add(week).Format(time.RFC3339)},
		{"a retention, an archive", week, true, now.Add(week).Format(time.RFC3339)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop", UID: "u"}}
			if tc.retention > 0 {
				ch.Spec.Retention = &metav1.Duration{Duration: tc.retention}
			}
			el := &payload.Element{Kind: payload.KindInvalid, Path: "entry[0]", Reason: "why"}
			cm, _ := refusedConfigMap(ch, tc.archiving, []byte("body"), []*payload.Element{el}, []json.RawMessage{json.RawMessage(`{}`)}, now)
			got, ok := cm.Annotations[AnnotationExpires]
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("expires-at %q (set %v), want %q", got, ok, tc.want)
			}
		})
	}
}
