package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"time"
	"unicode/utf8"
)

// Payments (Cloud only: India, Brazil, Singapore). The business sends a bill
// (interactive order_details, "Review and pay"), the customer pays in the
// chat, WhatsApp reports the payment in status webhooks of type "payment",
// and every later step of the order updates the same card (order_status)
// instead of sending another text. The reference_id ties them together.

// MaxItemName is the longest item name an order_details message takes.
const MaxItemName = 60

// Amount is money as WhatsApp writes it: Value / Offset in the bill's currency.
type Amount struct {
	Value  int64 `json:"value"`
	Offset int64 `json:"offset"`
}

// BillLine is one cart item on a bill; Amount is the unit price.
type BillLine struct {
	RetailerID string
	Quantity   int64
	Amount     Amount
}

// Bill holds the exact amounts of an order_details message (internal/bill
// computes them); Total is Subtotal + Tax + Shipping − Discount.
type Bill struct {
	Currency                                 string
	Items                                    []BillLine
	Subtotal, Tax, Shipping, Discount, Total Amount
}

// referencePattern is WhatsApp's rule for a reference_id.
var referencePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,35}$`)

// ValidReference tells whether WhatsApp accepts s as a reference_id.
func ValidReference(s string) bool { return referencePattern.MatchString(s) }

// PaymentSettings is how the customer pays a bill: exactly one of the fields.
type PaymentSettings struct {
	// Gateway is a payment configuration of the WhatsApp Business Account
	// (India: payment gateways and UPI).
	Gateway *GatewaySettings
	// Pix is a Brazilian dynamic Pix code.
	Pix *PixSettings
	// LinkURI is a payment link.
	LinkURI string
}

// GatewaySettings name a payment configuration; Provider (razorpay, payu,
// billdesk, zaakpay) is sent as payment_gateway.type when set.
type GatewaySettings struct {
	ConfigurationName, Provider string
}

// PixSettings are a dynamic Pix code and the account it pays.
type PixSettings struct {
	Code, MerchantName, Key, KeyType string
}

// OrderDetails is a bill: what the order_details message shows and charges.
type OrderDetails struct {
	// ReferenceID is unique per order (bill.Reference); payment statuses and
	// order_status messages name it.
	ReferenceID string
	// GoodsType is physical-goods or digital-goods.
	GoodsType string
	// Body is the message text (required); Footer is optional.
	Body, Footer string
	// Bill holds the exact amounts (internal/bill computes them).
	Bill     Bill
	Settings PaymentSettings
}

type paymentAction struct {
	Name       string `json:"name"`
	Parameters any    `json:"parameters"`
}

// orderDetailsParams are the parameters of review_and_pay, in the order of
// Meta's examples.
type orderDetailsParams struct {
	ReferenceID     string           `json:"reference_id"`
	Type            string           `json:"type"`
	PaymentType     string           `json:"payment_type,omitempty"`
	Currency        string           `json:"currency"`
	TotalAmount     Amount           `json:"total_amount"`
	PaymentSettings []paymentSetting `json:"payment_settings"`
	Order           orderDetailsBody `json:"order"`
}

type paymentSetting struct {
	Type           string             `json:"type"`
	PaymentGateway *paymentGateway    `json:"payment_gateway,omitempty"`
	PixDynamicCode *pixDynamicCode    `json:"pix_dynamic_code,omitempty"`
	PaymentLink    *paymentLinkTarget `json:"payment_link,omitempty"`
}

type paymentGateway struct {
	Type              string `json:"type,omitempty"`
	ConfigurationName string `json:"configuration_name"`
}

type pixDynamicCode struct {
	Code         string `json:"code"`
	MerchantName string `json:"merchant_name"`
	Key          string `json:"key"`
	KeyType      string `json:"key_type"`
}

type paymentLinkTarget struct {
	URI string `json:"uri"`
}

type orderDetailsBody struct {
	Status   string      `json:"status"`
	Items    []orderItem `json:"items"`
	Subtotal Amount      `json:"subtotal"`
	Tax      Amount      `json:"tax"`
	Shipping *Amount     `json:"shipping,omitempty"`
	Discount *Amount     `json:"discount,omitempty"`
}

type orderItem struct {
	RetailerID string `json:"retailer_id"`
	Name       string `json:"name"`
	Amount     Amount `json:"amount"`
	Quantity   int64  `json:"quantity"`
}

// orderDetailsButton is the action of an order details template's button.
type orderDetailsButton struct {
	OrderDetails *orderDetailsParams `json:"order_details"`
}

// OrderStatus is an update of the order card of a bill.
type OrderStatus struct {
	ReferenceID string
	// Status is pending, processing, partially-shipped, shipped, completed or
	// canceled. WhatsApp refuses canceled while a payment is captured or pending.
	Status string
	// Description is an optional line under the status.
	Description string
	// Body is the message text (required for the interactive message).
	Body string
}

type orderStatusParams struct {
	ReferenceID string           `json:"reference_id"`
	Order       orderStatusOrder `json:"order"`
}

type orderStatusOrder struct {
	Status      string `json:"status"`
	Description string `json:"description,omitempty"`
}

// orderStatuses are the values WhatsApp documents for order_status.
var orderStatuses = map[string]bool{"pending": true, "processing": true, "partially-shipped": true, "shipped": true, "completed": true, "canceled": true}

// SendOrderDetails sends the bill d as an interactive order_details message
// (action review_and_pay) and returns its message id. Like every free-form
// message it needs the customer's 24-hour window (else the error's class is
// WindowClosed and SendOrderDetailsTemplate is the way left). Cloud only.
func (c *Client) SendOrderDetails(ctx context.Context, s Send, d OrderDetails) (string, error) {
	params, err := c.orderDetails(d)
	if err != nil {
		return "", err
	}
	return c.sendOrderInteractive(ctx, s, "order_details", d.Body, d.Footer, paymentAction{Name: "review_and_pay", Parameters: params})
}

// SendOrderDetailsTemplate sends the bill d through the approved utility
// template t, whose ORDER_DETAILS button (index 0) carries the same
// parameters as the interactive message: the way to bill a customer outside
// the 24-hour window. The template's texts must need no parameters.
func (c *Client) SendOrderDetailsTemplate(ctx context.Context, s Send, t TemplateRef, d OrderDetails) (string, error) {
	params, err := c.orderDetails(d)
	if err != nil {
		return "", err
	}
	return c.sendOrderTemplate(ctx, s, t, component{Type: "button", SubType: "order_details", Index: new(0),
		Parameters: []parameter{{Type: "action", Action: orderDetailsButton{OrderDetails: params}}}})
}

// SendOrderStatus updates the order card of a bill with an interactive
// order_status message (action review_order). Cloud only; needs the window.
func (c *Client) SendOrderStatus(ctx context.Context, s Send, o OrderStatus) (string, error) {
	params, err := c.orderStatus(o)
	if err != nil {
		return "", err
	}
	return c.sendOrderInteractive(ctx, s, "order_status", o.Body, "", paymentAction{Name: "review_order", Parameters: params})
}

// SendOrderStatusTemplate updates the order card through the approved
// ORDER_STATUS utility template t, outside the 24-hour window.
func (c *Client) SendOrderStatusTemplate(ctx context.Context, s Send, t TemplateRef, o OrderStatus) (string, error) {
	params, err := c.orderStatus(o)
	if err != nil {
		return "", err
	}
	return c.sendOrderTemplate(ctx, s, t, component{Type: "order_status", Parameters: []parameter{{Type: "order_status", OrderStatus: params}}})
}

func (c *Client) sendOrderInteractive(ctx context.Context, s Send, typ, body, footer string, action paymentAction) (string, error) {
	if body == "" {
		return "", invalid("an " + typ + " message needs a body")
	}
	msg, err := c.envelopeFor(s, "interactive")
	if err != nil {
		return "", err
	}
	in := &interactive{Type: typ, Body: &interactiveText{Text: body}, Action: action}
	if footer != "" {
		in.Footer = &interactiveText{Text: footer}
	}
	msg.Interactive = in
	return c.post(ctx, msg)
}

func (c *Client) sendOrderTemplate(ctx context.Context, s Send, t TemplateRef, comp component) (string, error) {
	if t.Name == "" || t.Language == "" {
		return "", invalid("template name and language code are required")
	}
	msg, err := c.envelopeFor(s, "template")
	if err != nil {
		return "", err
	}
	msg.Template = c.template(t.Name, t.Language, "")
	msg.Template.Components = []component{comp}
	return c.post(ctx, msg)
}

// orderDetails checks d and builds its parameters; a bill WhatsApp would
// refuse is refused here, before anything is sent.
func (c *Client) orderDetails(d OrderDetails) (*orderDetailsParams, error) {
	if c.generation != Cloud {
		return nil, unsupported("payments are Cloud API only")
	}
	if !ValidReference(d.ReferenceID) {
		return nil, invalid(fmt.Sprintf("reference id %q is not 1 to 35 of A-Z a-z 0-9 _ - .", d.ReferenceID))
	}
	if len(d.Bill.Items) == 0 {
		return nil, invalid("a bill needs items")
	}
	p := &orderDetailsParams{ReferenceID: d.ReferenceID, Type: d.GoodsType, Currency: d.Bill.Currency, TotalAmount: d.Bill.Total}
	if p.Type == "" {
		p.Type = "physical-goods"
	}
	if d.Bill.Currency == "BRL" {
		// Brazil's bills say so; India's and Singapore's carry no payment_type.
		p.PaymentType = "br"
	}
	set := d.Settings
	switch {
	case set.Gateway != nil && set.Pix == nil && set.LinkURI == "":
		if set.Gateway.ConfigurationName == "" {
			return nil, invalid("a gateway payment needs a payment configuration name")
		}
		p.PaymentSettings = []paymentSetting{{Type: "payment_gateway", PaymentGateway: &paymentGateway{Type: set.Gateway.Provider, ConfigurationName: set.Gateway.ConfigurationName}}}
	case set.Pix != nil && set.Gateway == nil && set.LinkURI == "":
		x := set.Pix
		p.PaymentSettings = []paymentSetting{{Type: "pix_dynamic_code", PixDynamicCode: &pixDynamicCode{Code: x.Code, MerchantName: x.MerchantName, Key: x.Key, KeyType: x.KeyType}}}
	case set.LinkURI != "" && set.Gateway == nil && set.Pix == nil:
		p.PaymentSettings = []paymentSetting{{Type: "payment_link", PaymentLink: &paymentLinkTarget{URI: set.LinkURI}}}
	default:
		return nil, invalid("a bill needs exactly one payment setting: gateway, pix or link")
	}
	o := orderDetailsBody{Status: "pending", Subtotal: d.Bill.Subtotal, Tax: d.Bill.Tax}
	if d.Bill.Shipping.Value != 0 {
		o.Shipping = &d.Bill.Shipping
	}
	if d.Bill.Discount.Value != 0 {
		o.Discount = &d.Bill.Discount
	}
	for _, l := range d.Bill.Items {
		o.Items = append(o.Items, orderItem{RetailerID: l.RetailerID, Name: itemName(l.RetailerID), Amount: l.Amount, Quantity: l.Quantity})
	}
	p.Order = o
	return p, nil
}

// itemName is what the bill calls an item: the cart knows no product name,
// so its retailer id, cut to the length WhatsApp takes.
func itemName(retailerID string) string {
	if utf8.RuneCountInString(retailerID) <= MaxItemName {
		return retailerID
	}
	return string([]rune(retailerID)[:MaxItemName])
}

func (c *Client) orderStatus(o OrderStatus) (*orderStatusParams, error) {
	if c.generation != Cloud {
		return nil, unsupported("payments are Cloud API only")
	}
	if !ValidReference(o.ReferenceID) {
		return nil, invalid(fmt.Sprintf("reference id %q is not 1 to 35 of A-Z a-z 0-9 _ - .", o.ReferenceID))
	}
	if !orderStatuses[o.Status] {
		return nil, invalid(fmt.Sprintf("order status %q is not one of pending, processing, partially-shipped, shipped, completed, canceled", o.Status))
	}
	return &orderStatusParams{ReferenceID: o.ReferenceID, Order: orderStatusOrder{Status: o.Status, Description: o.Description}}, nil
}

// Payment is what the payment lookup says of a bill's payment.
type Payment struct {
	ReferenceID string `json:"reference_id"`
	// Status is pending, captured or failed.
	Status       string               `json:"status"`
	Currency     string               `json:"currency"`
	Amount       Amount               `json:"amount"`
	Transactions []PaymentTransaction `json:"transactions"`
}

// PaymentTransaction is one attempt to pay.
type PaymentTransaction struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Status  string `json:"status"`
	Created int64  `json:"created_timestamp"`
	Updated int64  `json:"updated_timestamp"`
	Method  struct {
		Type string `json:"type"`
	} `json:"method"`
	Error *struct {
		Code   string `json:"code"`
		Reason string `json:"reason"`
	} `json:"error"`
	Refunds []PaymentRefund `json:"refunds"`
}

// PaymentRefund is one refund of a transaction.
type PaymentRefund struct {
	ID     string `json:"id"`
	Amount Amount `json:"amount"`
	Status string `json:"status"`
}

// LookupPayment asks WhatsApp for the payment of the bill with reference
// referenceID under the payment configuration (GET
// /<phone-number-id>/payments/<configuration>/<reference-id>): Meta asks
// businesses not to rely on webhooks alone. Found is false when WhatsApp
// knows no payment for the reference yet.
func (c *Client) LookupPayment(ctx context.Context, configuration, referenceID string) (p Payment, found bool, err error) {
	if c.generation != Cloud {
		return Payment{}, false, unsupported("payments are Cloud API only")
	}
	if configuration == "" || !ValidReference(referenceID) {
		return Payment{}, false, invalid("a payment lookup needs a configuration name and a valid reference id")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	u := c.number + "/payments/" + url.PathEscape(configuration) + "/" + url.PathEscape(referenceID)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Payment{}, false, &Error{Class: Permanent, Message: "building request: " + c.redact(err.Error()), Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return Payment{}, false, c.transportError(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return Payment{}, false, c.transportError(fmt.Errorf("reading answer: %w", err))
	}
	var a struct {
		Payments []Payment   `json:"payments"`
		Error    *cloudError `json:"error"`
	}
	decodeErr := json.Unmarshal(body, &a)
	if a.Error != nil || resp.StatusCode/100 != 2 {
		// parseAnswer classifies the error object, or the bare status.
		_, apiErr := parseAnswer(resp.StatusCode, resp.Header, body, time.Now())
		apiErr.Message = c.redact(apiErr.Message)
		return Payment{}, false, apiErr
	}
	if decodeErr != nil {
		return Payment{}, false, &Error{HTTPStatus: resp.StatusCode, Class: Permanent, Message: "malformed answer: " + decodeErr.Error(), Err: decodeErr}
	}
	for _, p := range a.Payments {
		if p.ReferenceID == referenceID {
			return p, true, nil
		}
	}
	return Payment{}, false, nil
}
