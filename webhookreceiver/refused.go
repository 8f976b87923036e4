package webhookreceiver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// An element that can never be stored (a cart without items, a name longer
// than the schema allows) is acknowledged, so WhatsApp does not resend the
// whole body for a week, and kept verbatim in a ConfigMap of the channel's
// namespace, where `kubectl get configmaps -l commerce.wa.dev/refused=true`
// finds it, for as long as the channel keeps its resources (for good when it
// deletes none). An Event would say the same for an hour only.
//
// One ConfigMap holds all that a body refused, whatever their number: its
// cost is one write per body, and its size is bounded by maxKeptBytes. What
// does not fit is said in the ConfigMap, the answer and the metrics, never
// left out silently.
const (
	// LabelRefused marks the ConfigMaps holding refused elements.
	LabelRefused = "commerce.wa.dev/refused"
	// AnnotationExpires is when a refused element's ConfigMap may be deleted
	// (RFC 3339): the channel's retention after it was first refused. A
	// channel that deletes nothing (no retention, no archive) sets none, and
	// the ConfigMap goes with the channel.
	AnnotationExpires = "commerce.wa.dev/expires-at"

	// RefusedKeyIndex is the data key of the JSON list of what the body
	// refused (refusedEntry), in body order; each entry names the data key
	// holding its element verbatim, refusedElementKey(i).
	RefusedKeyIndex = "refused.json"
	// RefusedKeyTruncated says, in words, what the ConfigMap does not hold.
	RefusedKeyTruncated = "truncated"

	// maxKeptBytes keeps a ConfigMap under the API server's 1 MiB, metadata
	// and all.
	maxKeptBytes = 900 << 10
)

// Kept says how much of a refused element its ConfigMap holds.
const (
	keptWhole = "whole"
	// keptCut: the element's first bytes; it did not fit whole.
	keptCut = "cut"
	// keptListed: only its path, id and reason; the body refused more than fits.
	keptListed = "listed"
	// keptNot: not even listed: it is in the answer and the metrics only.
	keptNot = "no"
)

// refusedElementKey is the data key of the i-th refused element's JSON.
func refusedElementKey(i int) string { return "element-" + strconv.Itoa(i) + ".json" }

// refusedEntry is one line of RefusedKeyIndex.
type refusedEntry struct {
	// Path is where the element is in the body; "" for the body itself.
	Path      string `json:"path"`
	MessageID string `json:"messageID,omitempty"`
	Reason    string `json:"reason"`
	// Bytes is the size of the element as sent.
	Bytes int `json:"bytes"`
	// Key is the data key holding the element, or its first bytes when Kept
	// is keptCut; empty when it is not held.
	Key  string `json:"key,omitempty"`
	Kept string `json:"kept"`
}

// refusedEntryOverhead is the fixed part of an index entry's size: its member names
// and punctuation, to which its values' lengths are added.
const refusedEntryOverhead = len(`{"path":"","messageID":"","reason":"","bytes":0000000,"key":"element-00000.json","kept":"listed"},`)

// +kubebuilder:rbac:groups="",resources=configmaps,verbs=list;create;delete

// keepRefused keeps what a body refused, the elements els whose JSON in body
// is raws (the body itself for a body refused whole), in one ConfigMap named
// after the channel, the body and the paths refused, so that a redelivery
// finds the one it created before. It returns the ConfigMap's name and how
// much of each element it holds; an error when it cannot be written, for
// the body to be answered 503 and sent again.
func (r *Receiver) keepRefused(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, body []byte, els []*payload.Element, raws []json.RawMessage) (string, []string, error) {
	log := r.log(ch).WithValues("refused", len(els), "first", els[0].Path, "reason", els[0].Reason)
	log.Info("webhook elements can never be stored; keeping them")
	cm, kept := refusedConfigMap(ch, r.opts.Archiving, body, els, raws, time.Now())
	if err := r.opts.Client.Create(ctx, cm); err != nil && !apierrors.IsAlreadyExists(err) {
		log.Error(err, "keeping the refused elements of a webhook body")
		return "", nil, err
	} else if err == nil {
		for _, k := range kept {
			if k == keptWhole {
				refusedKept.Inc()
			} else {
				refusedNotKept.WithLabelValues(k).Inc()
			}
		}
	}
	return cm.Name, kept, nil
}

// refuseBody answers a body Parse refused. One over its bounds is refused
// whole (413), but may be WhatsApp's all the same: it is kept like a refused
// element, as much of it as fits, so a person can see what it was.
func (r *Receiver) refuseBody(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, body []byte, err error) response {
	r.log(ch).Info("webhook body refused", "error", err.Error(), "bytes", len(body))
	var be *payload.BodyError
	if !errors.As(err, &be) || !be.OverLimit {
		return refuse(verdictBadRequest, "%v", err)
	}
	whole := &payload.Element{Kind: payload.KindInvalid, Reason: be.Message}
	name, kept, err := r.keepRefused(ctx, ch, body, []*payload.Element{whole}, []json.RawMessage{body})
	if err != nil {
		return refuse(verdictClusterUnavailable, "the body is refused whole, and could not be kept for inspection now")
	}
	r.opts.Recorder.Eventf(ch, nil, corev1.EventTypeWarning, commercev1alpha1.ReasonWebhookBodyOverLimit, "Receive",
		"a webhook body of %d bytes was refused whole: %s; kept (%s) in ConfigMap %s", len(body), be.Message, kept[0], name)
	return refuse(verdictTooLarge, "%s; the body is kept (%s) in ConfigMap %s", be.Message, kept[0], name)
}

// refusedConfigMap lays out the ConfigMap for refused elements els, whose
// JSON is raws, listing and keeping them in body order while they fit in
// maxKeptBytes: an element too large for what is left is cut to it, and once
// nothing is left the others are listed only, then not at all. It expires
// when the channel's resources would, archiving telling whether the operator
// archives them.
func refusedConfigMap(ch *commercev1alpha1.WhatsAppChannel, archiving bool, body []byte, els []*payload.Element, raws []json.RawMessage, now time.Time) (*corev1.ConfigMap, []string) {
	cm := &corev1.ConfigMap{Data: map[string]string{}}
	index := make([]refusedEntry, 0, len(els))
	kept := make([]string, len(els))
	left := maxKeptBytes - len(RefusedKeyIndex) - len(RefusedKeyTruncated) - 1024 // the truncated note
	for i, el := range els {
		e := refusedEntry{Path: el.Path, MessageID: el.MessageID, Reason: el.Reason, Bytes: len(raws[i]), Kept: keptListed}
		need := refusedEntryOverhead + jsonLen(e.Path) + jsonLen(e.MessageID) + jsonLen(e.Reason)
		if need > left {
			for j := i; j < len(els); j++ {
				kept[j] = keptNot
			}
			break
		}
		left -= need
		if n := min(len(raws[i]), left-len(refusedElementKey(i))); n > 0 {
			e.Key, e.Kept = refusedElementKey(i), keptWhole
			if n < len(raws[i]) {
				e.Kept = keptCut
			}
			for n < len(raws[i]) && n > 0 && !utf8.RuneStart(raws[i][n]) {
				n-- // cut between characters
			}
			keep(cm, e.Key, raws[i][:n])
			left -= len(e.Key) + n
		}
		kept[i] = e.Kept
		index = append(index, e)
	}
	// Marshalled without HTML escaping, the index is no longer than counted.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(index)
	cm.Data[RefusedKeyIndex] = buf.String()
	if note := truncationNote(els, kept); note != "" {
		cm.Data[RefusedKeyTruncated] = note
	}

	labels := labels(ch.Name, commercev1alpha1.Customer{})
	labels[LabelRefused] = "true"
	cm.ObjectMeta = metav1.ObjectMeta{
		Namespace: ch.Namespace,
		Name:      refusedName(ch.Name, body, els),
		Labels:    labels,
		// Deleting the channel deletes what it refused.
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: commercev1alpha1.GroupVersion.String(), Kind: "WhatsAppChannel", Name: ch.Name, UID: ch.UID,
		}},
	}
	// Kept as long as the channel keeps its resources: a channel that deletes
	// none keeps these too, until it is deleted itself.
	if retention, deletes := ch.RetentionPeriod(archiving); deletes {
		cm.Annotations = map[string]string{AnnotationExpires: now.Add(retention).UTC().Format(time.RFC3339)}
	}
	return cm, kept
}

// keep puts raw under key: in data, or in binaryData when it is not UTF-8
// (JSON strings may hold any bytes), which a string would not keep verbatim.
func keep(cm *corev1.ConfigMap, key string, raw []byte) {
	if utf8.Valid(raw) {
		cm.Data[key] = string(raw)
		return
	}
	if cm.BinaryData == nil {
		cm.BinaryData = map[string][]byte{}
	}
	cm.BinaryData[key] = raw
}

// jsonLen bounds the length of s as a JSON string, quotes aside.
func jsonLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == '"' || c == '\\':
			n += 5
		case c >= utf8.RuneSelf:
			// Invalid UTF-8 becomes \ufffd, U+2028 and U+2029 \u2028.
			n += 2
		}
	}
	return n
}

// truncationNote says what of els the ConfigMap does not hold whole, or ""
// when it holds everything.
func truncationNote(els []*payload.Element, kept []string) string {
	count := map[string]int{}
	first := map[string]string{}
	for i, k := range kept {
		if _, ok := first[k]; !ok {
			first[k] = els[i].Path
		}
		count[k]++
	}
	var parts []string
	for _, k := range []string{keptCut, keptListed, keptNot} {
		if count[k] == 0 {
			continue
		}
		what := map[string]string{
			keptCut:    "kept cut to their first bytes",
			keptListed: "listed without their JSON",
			keptNot:    "not listed here (the webhook's answer and the receiver's metrics count them)",
		}[k]
		parts = append(parts, fmt.Sprintf("%d %s, the first at %q", count[k], what, first[k]))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("%d refused elements do not fit in %d bytes: %s", len(els)-count[keptWhole], maxKeptBytes, strings.Join(parts, "; "))
}

// refusedName is "<channel>-refused-<hash>", from the channel, the body and
// the paths it refused: a redelivery that refuses the same finds the same
// ConfigMap, one that refuses more (the API server refused one more element
// this time) makes another.
func refusedName(channel string, body []byte, els []*payload.Element) string {
	h := sha256.New()
	h.Write(body)
	for _, el := range els {
		h.Write([]byte("\x00" + el.Path))
	}
	return commercev1alpha1.ChannelScopedName(channel, "-refused-", hex.EncodeToString(h.Sum(nil)))
}

// RefusedSweeper deletes the ConfigMaps of refused elements once their
// AnnotationExpires has passed. It runs on the leader only.
type RefusedSweeper struct {
	// Client deletes; Reader lists from the API server, so that ConfigMaps are
	// not cached cluster-wide for a sweep an hour.
	Client client.Client
	Reader client.Reader
	// Namespaces to sweep; empty sweeps all.
	Namespaces []string
	// Period between sweeps.
	Period time.Duration
	Log    logr.Logger
}

// NeedLeaderElection is true: one replica sweeps.
func (s *RefusedSweeper) NeedLeaderElection() bool { return true }

// Start sweeps at once and then every Period until ctx ends.
func (s *RefusedSweeper) Start(ctx context.Context) error {
	t := time.NewTicker(s.Period)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx, time.Now()); err != nil {
			s.Log.Error(err, "sweeping expired refused webhook elements")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Sweep deletes the refused elements' ConfigMaps that expired by now and
// says how many it deleted. Only ConfigMaps a channel owns are the operator's
// (anyone who may edit ConfigMaps can put the label on one of their own). A
// ConfigMap whose expiry cannot be read is kept: a person may have edited it
// to keep it. A ConfigMap that cannot be deleted does not keep the others:
// the errors are returned together once every namespace was swept.
func (s *RefusedSweeper) Sweep(ctx context.Context, now time.Time) (int, error) {
	namespaces := s.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	deleted := 0
	var errs []error
	for _, ns := range namespaces {
		var list corev1.ConfigMapList
		if err := s.Reader.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{LabelRefused: "true"}); err != nil {
			errs = append(errs, fmt.Errorf("listing refused webhook elements: %w", err))
			continue
		}
		for i := range list.Items {
			cm := &list.Items[i]
			if !ownedByChannel(cm) {
				continue
			}
			expires, err := time.Parse(time.RFC3339, cm.Annotations[AnnotationExpires])
			if err != nil || now.Before(expires) {
				continue
			}
			if err := s.Client.Delete(ctx, cm, client.Preconditions{UID: &cm.UID}); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting refused webhook element %s/%s: %w", cm.Namespace, cm.Name, err))
				continue
			}
			deleted++
		}
	}
	return deleted, errors.Join(errs...)
}

// ownedByChannel tells whether a WhatsAppChannel owns cm, as it owns every
// refused element's ConfigMap the receiver makes.
func ownedByChannel(cm *corev1.ConfigMap) bool {
	for _, ref := range cm.OwnerReferences {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err == nil && gv.Group == commercev1alpha1.GroupVersion.Group && ref.Kind == "WhatsAppChannel" {
			return true
		}
	}
	return false
}
