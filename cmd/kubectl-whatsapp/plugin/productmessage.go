package plugin

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// ProductMessages are read and written as unstructured objects, by the field
// names of the public API, so the plugin also works against clusters whose
// CRDs predate the kind (installed before it existed): there, what needs one
// says so and the rest works.
var productMessageGVK = schema.GroupVersionKind{Group: commercev1alpha1.GroupVersion.Group, Version: commercev1alpha1.GroupVersion.Version, Kind: "ProductMessage"}

// productMessage reads the fields of a ProductMessage the plugin shows.
type productMessage struct{ u *unstructured.Unstructured }

func newProductMessage() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(productMessageGVK)
	return u
}

func newProductMessageList() *unstructured.UnstructuredList {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(productMessageGVK.GroupVersion().WithKind(productMessageGVK.Kind + "List"))
	return list
}

func (p productMessage) str(fields ...string) string {
	s, _, _ := unstructured.NestedString(p.u.Object, fields...)
	return s
}

func (p productMessage) count(fields ...string) int64 {
	n, _, _ := unstructured.NestedFieldNoCopy(p.u.Object, fields...)
	switch v := n.(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	}
	return 0
}

func (p productMessage) name() string           { return p.u.GetName() }
func (p productMessage) phase() string          { return p.str("status", "phase") }
func (p productMessage) deliveryStatus() string { return p.str("status", "deliveryStatus") }

// messageID is the WhatsApp id the message went out with, or the one another
// system sent it with.
func (p productMessage) messageID() string {
	return orEmpty(p.str("status", "messageID"), p.str("spec", "messageID"))
}

func (p productMessage) recipient() string {
	return orEmpty(p.str("spec", "to", "waID"), p.str("spec", "to", "userID"))
}

func (p productMessage) sentAt() time.Time {
	t, err := time.Parse(time.RFC3339, p.str("status", "sentAt"))
	if err != nil {
		return time.Time{}
	}
	return t
}

// describe names what the message shows: a product, sections or the catalog.
func (p productMessage) describe() string {
	if id := p.str("spec", "product", "productRetailerID"); id != "" {
		return "product " + id
	}
	if sections, ok, _ := unstructured.NestedSlice(p.u.Object, "spec", "sections"); ok {
		products := 0
		for _, s := range sections {
			ids, _, _ := unstructured.NestedStringSlice(s.(map[string]any), "productRetailerIDs")
			products += len(ids)
		}
		return fmt.Sprintf("%d products in %d sections", products, len(sections))
	}
	return "catalog " + p.str("spec", "catalogID")
}

// failure is why the message was not sent, from its error or Sent condition.
func (p productMessage) failure() string {
	if code := p.count("status", "error", "code"); code != 0 {
		return fmt.Sprintf("%d %s %s", code, p.str("status", "error", "title"), p.str("status", "error", "message"))
	}
	conditions, _, _ := unstructured.NestedSlice(p.u.Object, "status", "conditions")
	for _, c := range conditions {
		cond, _ := c.(map[string]any)
		if cond["type"] == "Sent" {
			return fmt.Sprintf("%v: %v", cond["reason"], cond["message"])
		}
	}
	return "no reason given"
}

// revenue is status.revenue: the exact totals per currency.
type revenue struct {
	Currency string `json:"currency"`
	Total    string `json:"total"`
}

func (p productMessage) revenue() []revenue {
	list, _, _ := unstructured.NestedSlice(p.u.Object, "status", "revenue")
	out := make([]revenue, 0, len(list))
	for _, r := range list {
		m, _ := r.(map[string]any)
		cur, _ := m["currency"].(string)
		total, _ := m["total"].(string)
		out = append(out, revenue{Currency: cur, Total: total})
	}
	return out
}

func (s *session) getProductMessage(ctx context.Context, name string) (productMessage, error) {
	u := newProductMessage()
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, u); err != nil {
		if meta.IsNoMatchError(err) {
			return productMessage{}, errNoProductMessageKind
		}
		return productMessage{}, s.notFound("product message", name, err)
	}
	return productMessage{u}, nil
}

var errNoProductMessageKind = fmt.Errorf("this cluster has no ProductMessage kind: install the operator's current CRDs")

// productMessageOf finds the product message an order came from: by the label
// the operator puts on it, else by the message id the order replies to. It is
// nil when there is none, or the cluster has no ProductMessage kind.
func (s *session) productMessageOf(ctx context.Context, order *commercev1alpha1.WhatsAppOrder) (*productMessage, error) {
	if name := order.Labels[commercev1alpha1.LabelProductMessage]; name != "" {
		pm, err := s.getProductMessage(ctx, name)
		if err == nil {
			return &pm, nil
		}
	}
	if order.Spec.ReplyToMessageID == "" {
		return nil, nil
	}
	list := newProductMessageList()
	if err := s.client.List(ctx, list, client.InNamespace(s.namespace)); err != nil {
		if meta.IsNoMatchError(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing product messages: %w", err)
	}
	for i := range list.Items {
		pm := productMessage{&list.Items[i]}
		if pm.messageID() == order.Spec.ReplyToMessageID && pm.str("spec", "channel") == order.Spec.Channel {
			return &pm, nil
		}
	}
	return nil, nil
}
