// Package callbackdata names, inside a Cloud send's biz_opaque_callback_data,
// the resource a message belongs to and what it was about. WhatsApp echoes
// that string in every status webhook of the message, so the receiver can
// route a status to its resource directly, even before the send call's answer
// (and so the message id) has been recorded.
package callbackdata

import (
	"fmt"
	"strings"
)

// prefix versions the format, so a later format can be told apart from this one
// in statuses of messages sent by an older operator.
const prefix = "wco1"

// MaxLen is WhatsApp's limit on biz_opaque_callback_data.
const MaxLen = 512

// Ref is what a message is about: Kind is the resource's kind
// ("WhatsAppOrder", "ProductInquiry", "ProductMessage"), About what the message
// was for on that resource (an order state such as "Accepted", "reply", "product").
type Ref struct {
	Kind      string
	Namespace string
	Name      string
	About     string
}

// String encodes r as "wco1|Kind|namespace|name|about". Kubernetes names,
// namespaces, kinds and the About values the operator uses never contain "|".
func (r Ref) String() string {
	return strings.Join([]string{prefix, r.Kind, r.Namespace, r.Name, r.About}, "|")
}

// Parse reads what String wrote; ok is false for anything else, such as
// callback data another sender on the same number set.
func Parse(s string) (r Ref, ok bool) {
	parts := strings.Split(s, "|")
	if len(parts) != 5 || parts[0] != prefix {
		return Ref{}, false
	}
	for _, p := range parts[1:4] {
		if p == "" {
			return Ref{}, false
		}
	}
	return Ref{Kind: parts[1], Namespace: parts[2], Name: parts[3], About: parts[4]}, true
}

// Validate says why r cannot be encoded losslessly, or nil.
func (r Ref) Validate() error {
	for _, p := range []string{r.Kind, r.Namespace, r.Name, r.About} {
		if strings.Contains(p, "|") {
			return fmt.Errorf("callback data part %q contains '|'", p)
		}
	}
	if n := len(r.String()); n > MaxLen {
		return fmt.Errorf("callback data is %d bytes, over WhatsApp's %d", n, MaxLen)
	}
	return nil
}
