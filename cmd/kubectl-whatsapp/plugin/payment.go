package plugin

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/bill"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
)

// paymentFlags are request-payment's flags, one method among them.
type paymentFlags struct {
	gateway                     string
	pixCode, merchant, key      string
	keyType, link               string
	tax, shipping, discount     string
	goodsType                   string
	gatewaySet, pixSet, linkSet bool
}

func (r *root) requestPaymentCommand() *cobra.Command {
	var (
		out output
		f   paymentFlags
	)
	cmd := &cobra.Command{
		Use:   "request-payment ORDER (--gateway NAME | --pix-code CODE --merchant NAME --key KEY --key-type TYPE | --link URI)",
		Short: "Ask the customer to pay a WhatsAppOrder in the chat; the operator sends the bill",
		Long: `request-payment sets the order's spec.payment, once: the operator then sends the
customer one order_details message ("Review and pay") with the cart, the
total and the payment method, and records the payment WhatsApp reports in
status.payment. The amounts are checked here first: a currency the method
does not take or a fraction of a cent is refused before anything is set.`,
		Example: `  kubectl whatsapp request-payment shop-1d9e --gateway razorpay-prod --shipping 50
  kubectl whatsapp request-payment shop-1d9e --pix-code 00020101... --merchant "Loja" --key 39580525000189 --key-type CNPJ
  kubectl whatsapp request-payment shop-1d9e --link https://rzp.io/i/rNiAagU8y --discount 10`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: r.completeFirst(orderNames),
		RunE: r.verb(&out, func(cmd *cobra.Command, s *session, args []string) error {
			fl := cmd.Flags()
			f.gatewaySet, f.pixSet, f.linkSet = fl.Changed("gateway"), fl.Changed("pix-code"), fl.Changed("link")
			p, err := f.payment()
			if err != nil {
				return err
			}
			order, line, err := s.requestPayment(cmd.Context(), args[0], p)
			if err != nil {
				return err
			}
			return out.result(r.streams.Out, order, line)
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.gateway, "gateway", "", "payment configuration of the WhatsApp Business Account (India, INR); empty for the channel's default")
	fl.StringVar(&f.pixCode, "pix-code", "", "dynamic Pix code (Brazil, BRL)")
	fl.StringVar(&f.merchant, "merchant", "", "the Pix account holder's name")
	fl.StringVar(&f.key, "key", "", "the Pix key")
	fl.StringVar(&f.keyType, "key-type", "", "the Pix key's type: CPF, CNPJ, EMAIL, PHONE or EVP")
	fl.StringVar(&f.link, "link", "", "https payment link (INR, BRL or SGD)")
	fl.StringVar(&f.tax, "tax", "", "tax added to the items, a decimal (\"12.50\")")
	fl.StringVar(&f.shipping, "shipping", "", "shipping added to the items, a decimal")
	fl.StringVar(&f.discount, "discount", "", "discount taken off the items, a decimal")
	fl.StringVar(&f.goodsType, "goods-type", "", "physical-goods or digital-goods; empty for the channel's default")
	out.addFlag(cmd)
	return cmd
}

// payment is the spec.payment the flags ask for.
func (f *paymentFlags) payment() (*commercev1alpha1.OrderPayment, error) {
	methods := 0
	for _, set := range []bool{f.gatewaySet, f.pixSet, f.linkSet} {
		if set {
			methods++
		}
	}
	if methods != 1 {
		return nil, errors.New("give exactly one payment method: --gateway, --pix-code (with --merchant, --key, --key-type) or --link")
	}
	p := &commercev1alpha1.OrderPayment{Tax: f.tax, Shipping: f.shipping, Discount: f.discount, GoodsType: commercev1alpha1.GoodsType(f.goodsType)}
	switch {
	case f.gatewaySet:
		p.Gateway = &commercev1alpha1.GatewayPayment{ConfigurationName: f.gateway}
	case f.pixSet:
		if f.pixCode == "" || f.merchant == "" || f.key == "" || f.keyType == "" {
			return nil, errors.New("a Pix payment needs --pix-code, --merchant, --key and --key-type")
		}
		p.Pix = &commercev1alpha1.PixPayment{Code: f.pixCode, MerchantName: f.merchant, Key: f.key, KeyType: f.keyType}
	default:
		p.Link = &commercev1alpha1.LinkPayment{URI: f.link}
	}
	return p, nil
}

// method is the bill method of a spec.payment.
func method(p *commercev1alpha1.OrderPayment) bill.Method {
	switch {
	case p.Pix != nil:
		return bill.Pix
	case p.Link != nil:
		return bill.Link
	}
	return bill.Gateway
}

// requestPayment sets the order's spec.payment after checking that the bill
// can be paid at all; the API server refuses a second, different request and
// one on a final order.
func (s *session) requestPayment(ctx context.Context, name string, p *commercev1alpha1.OrderPayment) (*commercev1alpha1.WhatsAppOrder, string, error) {
	var order commercev1alpha1.WhatsAppOrder
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, &order); err != nil {
		return nil, "", s.notFound("order", name, err)
	}
	b, err := bill.Compute(bill.Request{Items: cart.OrderItems(order.Spec.Items), Method: method(p), Tax: p.Tax, Shipping: p.Shipping, Discount: p.Discount})
	if err != nil {
		return nil, "", fmt.Errorf("order %s cannot be paid that way: %w", name, err)
	}
	total, _ := bill.Decimal(b.Total)
	line := fmt.Sprintf("order %s: payment of %s %s requested; the operator sends the bill", name, cart.Format(total, b.Currency), b.Currency)
	if order.Spec.Payment != nil {
		if equality.Semantic.DeepEqual(order.Spec.Payment, p) {
			return &order, fmt.Sprintf("order %s already has this payment request", name), nil
		}
		return nil, "", fmt.Errorf("order %s already has a payment request: it cannot be changed once set", name)
	}
	before := order.DeepCopy()
	order.Spec.Payment = p
	if err := s.client.Patch(ctx, &order, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return nil, "", fmt.Errorf("requesting payment of order %s: %w", name, err)
	}
	return &order, line, nil
}
