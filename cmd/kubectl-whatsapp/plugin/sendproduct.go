package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// sendProductOptions are send-product's flags, named after the ProductMessage's fields.
type sendProductOptions struct {
	name, channel, toWaID, toUserID, catalog   string
	product, thumbnail                         string
	catalogMessage                             bool
	sections                                   []string
	header, body, footer, replyTo, inquiry     string
	templateName, templateLanguage, templateNS string
	messageID                                  string
	wait                                       bool
	timeout                                    time.Duration
}

func (r *root) sendProductCommand() *cobra.Command {
	var out output
	var o sendProductOptions
	cmd := &cobra.Command{
		Use:   "send-product",
		Short: "Send a customer a product, a product list or the catalog (creates a ProductMessage)",
		Example: `  # one product
  kubectl whatsapp send-product --channel shop --to 16505551234 --catalog 194836987003835 --product di9ozbzfi4 --body "Back in stock"
  # a product list: one --section per section, "Title=id,id,..."
  kubectl whatsapp send-product --channel shop --to 16505551234 --catalog 194836987003835 \
      --header "Spring" --body "Our picks" --section "Shirts=di9ozbzfi4,nqryix03ez" --section "Hats=b7x2" --wait
  # answer an inquiry with the product asked about (channel, customer and catalog come from it)
  kubectl whatsapp send-product --inquiry shop-5c2a --body "Here it is" --wait`,
		Args: cobra.NoArgs,
		RunE: r.verb(&out, func(cmd *cobra.Command, s *session, _ []string) error {
			pm, err := s.sendProduct(cmd.Context(), &o)
			if err != nil {
				return err
			}
			line := fmt.Sprintf("productmessage %s created: %s to %s", pm.name(), pm.describe(), pm.recipient())
			if o.wait {
				if pm, err = s.waitSent(cmd.Context(), pm.name(), o.timeout); err != nil {
					return err
				}
				line = fmt.Sprintf("productmessage %s sent: %s to %s (message %s)", pm.name(), pm.describe(), pm.recipient(), pm.messageID())
			}
			return out.result(r.streams.Out, pm.u, line)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.name, "name", "", "Name of the ProductMessage (default: generated from the channel's name).")
	f.StringVar(&o.channel, "channel", "", "WhatsAppChannel to send on (default: the inquiry's, or the namespace's only channel).")
	f.StringVar(&o.toWaID, "to", "", "Customer's WhatsApp id (phone number).")
	f.StringVar(&o.toUserID, "to-user-id", "", "Customer's business-scoped user id, for a customer without a phone number.")
	f.StringVar(&o.catalog, "catalog", "", "Catalog id (default: the inquiry's).")
	f.StringVar(&o.product, "product", "", "Product retailer id of a single-product message.")
	f.StringArrayVar(&o.sections, "section", nil, `A section of a product list, "Title=id1,id2,..."; repeat for more sections.`)
	f.BoolVar(&o.catalogMessage, "catalog-message", false, "Send the whole catalog (a catalog message).")
	f.StringVar(&o.thumbnail, "thumbnail", "", "Product retailer id whose image a catalog message shows.")
	f.StringVar(&o.header, "header", "", "Header text (required for a product list).")
	f.StringVar(&o.body, "body", "", "Body text (required for a product list and a catalog message).")
	f.StringVar(&o.footer, "footer", "", "Footer text.")
	f.StringVar(&o.replyTo, "reply-to", "", "WhatsApp message id to thread the message under.")
	f.StringVar(&o.inquiry, "inquiry", "", "ProductInquiry the message answers: it is sent in reply to it, and the inquiry becomes Answered.")
	f.StringVar(&o.templateName, "template", "", "Approved catalog or multi-product template to send instead when the 24-hour window has closed.")
	f.StringVar(&o.templateLanguage, "template-language", "", "Language of --template.")
	f.StringVar(&o.templateNS, "template-namespace", "", "Namespace of --template (On-Premises).")
	f.StringVar(&o.messageID, "message-id", "", "Track a product message another system already sent, under this WhatsApp id; nothing is sent.")
	f.BoolVar(&o.wait, "wait", false, "Wait until the message is Sent (exits non-zero when it Failed).")
	f.DurationVar(&o.timeout, "timeout", time.Minute, "How long --wait waits.")
	_ = cmd.RegisterFlagCompletionFunc("channel", r.completeFirst(channelNames))
	_ = cmd.RegisterFlagCompletionFunc("inquiry", r.completeFirst(inquiryNames))
	out.addFlag(cmd)
	return cmd
}

func (s *session) sendProduct(ctx context.Context, o *sendProductOptions) (productMessage, error) {
	if err := s.fillFromInquiry(ctx, o); err != nil {
		return productMessage{}, err
	}
	if o.channel == "" {
		names, err := channelNames(ctx, s)
		if err != nil {
			return productMessage{}, fmt.Errorf("listing channels: %w", err)
		}
		if len(names) != 1 {
			return productMessage{}, fmt.Errorf("namespace %q has %d channels: choose one with --channel", s.namespace, len(names))
		}
		o.channel = names[0]
	}
	spec, err := o.spec()
	if err != nil {
		return productMessage{}, err
	}
	u := newProductMessage()
	u.SetNamespace(s.namespace)
	if o.name != "" {
		u.SetName(o.name)
	} else {
		u.SetGenerateName(o.channel + "-")
	}
	u.Object["spec"] = spec
	if err := s.client.Create(ctx, u); err != nil {
		if meta.IsNoMatchError(err) {
			return productMessage{}, errNoProductMessageKind
		}
		return productMessage{}, fmt.Errorf("creating the product message: %w", err)
	}
	return productMessage{u}, nil
}

// fillFromInquiry takes what the message answering an inquiry needs from the
// inquiry, where the flags left it open.
func (s *session) fillFromInquiry(ctx context.Context, o *sendProductOptions) error {
	if o.inquiry == "" {
		return nil
	}
	var inq commercev1alpha1.ProductInquiry
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: o.inquiry}, &inq); err != nil {
		return s.notFound("inquiry", o.inquiry, err)
	}
	if o.channel == "" {
		o.channel = inq.Spec.Channel
	}
	if o.toWaID == "" && o.toUserID == "" {
		o.toWaID, o.toUserID = inq.Spec.Customer.WaID, inq.Spec.Customer.UserID
	}
	if o.catalog == "" {
		o.catalog = inq.Spec.Product.CatalogID
	}
	if o.product == "" && len(o.sections) == 0 && !o.catalogMessage {
		o.product = inq.Spec.Product.ProductRetailerID
	}
	return nil
}

// spec is the ProductMessage spec the flags describe. The API server checks
// the rest (lengths, counts, required texts) and says what is wrong.
func (o *sendProductOptions) spec() (map[string]any, error) {
	kinds := 0
	for _, set := range []bool{o.product != "", len(o.sections) > 0, o.catalogMessage} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, errors.New("give exactly one of --product, --section (one or more) and --catalog-message")
	}
	if o.toWaID == "" && o.toUserID == "" {
		return nil, errors.New("give the customer with --to (WhatsApp id) or --to-user-id")
	}
	if o.catalog == "" {
		return nil, errors.New("give the catalog with --catalog")
	}
	to := map[string]any{}
	setIf(to, "waID", o.toWaID)
	setIf(to, "userID", o.toUserID)
	spec := map[string]any{"channel": o.channel, "to": to, "catalogID": o.catalog}
	switch {
	case o.product != "":
		spec["product"] = map[string]any{"productRetailerID": o.product}
	case o.catalogMessage:
		catalog := map[string]any{}
		setIf(catalog, "thumbnailProductRetailerID", o.thumbnail)
		spec["catalog"] = catalog
	default:
		sections := make([]any, 0, len(o.sections))
		for _, arg := range o.sections {
			section, err := parseSection(arg)
			if err != nil {
				return nil, err
			}
			sections = append(sections, section)
		}
		spec["sections"] = sections
	}
	for key, value := range map[string]string{"header": o.header, "body": o.body, "footer": o.footer,
		"replyToMessageID": o.replyTo, "inquiry": o.inquiry, "messageID": o.messageID} {
		setIf(spec, key, value)
	}
	if o.templateName != "" {
		template := map[string]any{"name": o.templateName}
		setIf(template, "language", o.templateLanguage)
		setIf(template, "namespace", o.templateNS)
		spec["template"] = template
	}
	return spec, nil
}

// parseSection reads "Title=id1,id2".
func parseSection(arg string) (map[string]any, error) {
	title, list, ok := strings.Cut(arg, "=")
	var ids []any
	for _, id := range strings.Split(list, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if !ok || strings.TrimSpace(title) == "" || len(ids) == 0 {
		return nil, fmt.Errorf(`--section %q: write it as "Title=id1,id2,..."`, arg)
	}
	return map[string]any{"title": strings.TrimSpace(title), "productRetailerIDs": ids}, nil
}

func setIf(m map[string]any, key, value string) {
	if value != "" {
		m[key] = value
	}
}

// waitSent waits for the operator to send the message: Sent, or Failed with why.
func (s *session) waitSent(ctx context.Context, name string, timeout time.Duration) (productMessage, error) {
	var pm productMessage
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		var err error
		if pm, err = s.getProductMessage(ctx, name); err != nil {
			return false, err
		}
		return pm.phase() == "Sent" || pm.phase() == "Failed", nil
	})
	switch {
	case err != nil && pm.u != nil:
		return pm, fmt.Errorf("productmessage %s is still %s after %s: %s", name, orEmpty(pm.phase(), "not picked up by the operator"), timeout, pm.failure())
	case err != nil:
		return pm, err
	case pm.phase() == "Failed":
		return pm, fmt.Errorf("productmessage %s failed: %s", name, pm.failure())
	}
	return pm, nil
}
