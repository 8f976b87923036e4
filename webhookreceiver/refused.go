package webhookreceiver

import (
	"context"
	"errors"
	"fmt"
	"time"

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
// finds it, for the channel's retention. An Event would say the same for an
// hour only.
const (
	// LabelRefused marks the ConfigMaps holding refused elements.
	LabelRefused = "commerce.wa.dev/refused"
	// AnnotationExpires is when a refused element's ConfigMap may be deleted
	// (RFC 3339): the channel's retention after it was first refused.
	AnnotationExpires = "commerce.wa.dev/expires-at"

	// The keys of a refused element's ConfigMap.
	RefusedKeyElement   = "element.json"
	RefusedKeyReason    = "reason"
	RefusedKeyPath      = "path"
	RefusedKeyMessageID = "messageID"
	RefusedKeyTruncated = "truncated"

	// maxKeptBytes keeps a ConfigMap under the API server's 1 MiB: a larger
	// element is kept up to this size, and says so.
	maxKeptBytes = 900 << 10
)

// +kubebuilder:rbac:groups="",resources=configmaps,verbs=list;create;delete

// refuse keeps an element that can never be stored. The ConfigMap is named
// from the channel and the element's message id (its JSON when it has none),
// so a redelivery finds the one it created before. Only when it cannot be
// written is the element failed, for WhatsApp to send the body again.
func (r *Receiver) refuse(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, body []byte, el *payload.Element) result {
	log := r.log(ch).WithValues("element", el.Path, "messageID", el.MessageID)
	log.Info("webhook element can never be stored; keeping it", "reason", el.Reason)
	raw, err := payload.Raw(body, el.Path)
	if err != nil {
		// Paths come from the parser of the same body; keep what is known.
		raw = nil
		log.Error(err, "locating the refused element in its body")
	}
	cm := refusedConfigMap(ch, el, raw, time.Now())
	if err := r.opts.Client.Create(ctx, cm); err != nil && !apierrors.IsAlreadyExists(err) {
		log.Error(err, "keeping the refused element")
		return result{outcome: OutcomeFailed}
	} else if err == nil {
		refusedKept.Inc()
	}
	return result{outcome: OutcomeInvalid, kept: cm.Name}
}

func refusedConfigMap(ch *commercev1alpha1.WhatsAppChannel, el *payload.Element, raw []byte, now time.Time) *corev1.ConfigMap {
	key := el.MessageID
	if key == "" {
		key = "path:" + el.Path + "\x00" + string(raw)
	}
	data := map[string]string{
		RefusedKeyElement: string(raw),
		RefusedKeyReason:  el.Reason,
		RefusedKeyPath:    el.Path,
	}
	if el.MessageID != "" {
		data[RefusedKeyMessageID] = el.MessageID
	}
	if len(raw) > maxKeptBytes {
		data[RefusedKeyElement] = string(raw[:maxKeptBytes])
		data[RefusedKeyTruncated] = fmt.Sprintf("the element is %d bytes; the first %d are kept", len(raw), maxKeptBytes)
	}
	// At least the channel's retention; without one set, the default, as
	// with an archive: a refused element is no resource to keep for good.
	retention, _ := ch.RetentionPeriod(true)
	labels := labels(ch.Name, commercev1alpha1.Customer{})
	labels[LabelRefused] = "true"
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   ch.Namespace,
			Name:        refusedName(ch.Name, key),
			Labels:      labels,
			Annotations: map[string]string{AnnotationExpires: now.Add(retention).UTC().Format(time.RFC3339)},
			// Deleting the channel deletes what it refused.
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: commercev1alpha1.GroupVersion.String(), Kind: "WhatsAppChannel", Name: ch.Name, UID: ch.UID,
			}},
		},
		Data: data,
	}
}

// refusedName is "<channel>-refused-<hash>", from the channel and key.
func refusedName(channel, key string) string {
	return hashedName(channel, "-refused-", key)
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
