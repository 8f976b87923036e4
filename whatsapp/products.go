package whatsapp

import (
	"context"
	"fmt"
	"unicode/utf8"
)

// Product messages show catalog products inside the chat. WhatsApp has three
// interactive kinds, each free-form (only within the customer's 24-hour
// window), and two template kinds for outside it:
//
//	kind             Cloud  On-Premises  request
//	SingleProduct    yes    yes          interactive.type product
//	MultiProduct     yes    yes          interactive.type product_list
//	CatalogMessage   yes    no           interactive.type catalog_message
//	catalog template yes    no           template button sub_type CATALOG
//	MPM template     yes    yes          template button sub_type mpm
//
// On-Premises never had catalog messages or catalog templates: they came to
// the Cloud API after On-Premises stopped getting features (client v2.53).
// Sending them through an On-Premises client fails before anything is sent,
// with an error wrapping ErrUnsupported.

// ProductKind is one of the three interactive product message kinds; its
// value is WhatsApp's interactive type.
type ProductKind string

const (
	SingleProduct  ProductKind = "product"
	MultiProduct   ProductKind = "product_list"
	CatalogMessage ProductKind = "catalog_message"
)

// WhatsApp's limits on product messages, checked before sending.
const (
	MaxProductBody      = 1024
	MaxProductFooter    = 60
	MaxProductHeader    = 60
	MaxSections         = 10
	MaxSectionTitle     = 24
	MaxProductsInAll    = 30
	catalogTemplateType = "CATALOG"
	mpmTemplateType     = "mpm"
)

// Products describes a product message.
type Products struct {
	Kind      ProductKind
	CatalogID string
	// ProductRetailerID is the product of a SingleProduct message, and the
	// optional thumbnail of a CatalogMessage.
	ProductRetailerID string
	// Sections are the products of a MultiProduct message.
	Sections []Section
	// Header is the text header, required for MultiProduct and not allowed
	// for the other kinds; Body is required but for SingleProduct; Footer is
	// optional.
	Header, Body, Footer string
}

// Section is one titled group of a multi-product message.
type Section struct {
	Title              string
	ProductRetailerIDs []string
}

type interactive struct {
	Type   string             `json:"type"`
	Header *interactiveHeader `json:"header,omitempty"`
	Body   *interactiveText   `json:"body,omitempty"`
	Footer *interactiveText   `json:"footer,omitempty"`
	// Action is a productAction, or a paymentAction for the order messages.
	Action any `json:"action"`
}

type interactiveText struct {
	Text string `json:"text"`
}

type interactiveHeader struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// productAction is the action of all three kinds: catalog_id and
// product_retailer_id or sections for products, name and parameters for the
// catalog message.
type productAction struct {
	Name              string            `json:"name,omitempty"`
	CatalogID         string            `json:"catalog_id,omitempty"`
	ProductRetailerID string            `json:"product_retailer_id,omitempty"`
	Sections          []productSection  `json:"sections,omitempty"`
	Parameters        *catalogParameter `json:"parameters,omitempty"`
}

type catalogParameter struct {
	ThumbnailProductRetailerID string `json:"thumbnail_product_retailer_id"`
}

type productSection struct {
	Title        string        `json:"title,omitempty"`
	ProductItems []productItem `json:"product_items"`
}

type productItem struct {
	ProductRetailerID string `json:"product_retailer_id"`
}

// buttonAction fills the product button of a catalog or MPM template.
type buttonAction struct {
	ThumbnailProductRetailerID string           `json:"thumbnail_product_retailer_id,omitempty"`
	Sections                   []productSection `json:"sections,omitempty"`
}

// SendProducts sends the interactive product message p and returns the id
// WhatsApp assigned to it. Like every free-form message it only goes through
// within the customer's 24-hour window; outside it the error's class is
// WindowClosed and SendProductTemplate is the way left. An unknown product or
// catalog comes back Permanent (code 131009).
func (c *Client) SendProducts(ctx context.Context, s Send, p Products) (string, error) {
	if err := c.checkProducts(p); err != nil {
		return "", err
	}
	msg, err := c.envelopeFor(s, "interactive")
	if err != nil {
		return "", err
	}
	in := &interactive{Type: string(p.Kind)}
	action := productAction{CatalogID: p.CatalogID}
	if p.Body != "" {
		in.Body = &interactiveText{Text: p.Body}
	}
	if p.Footer != "" {
		in.Footer = &interactiveText{Text: p.Footer}
	}
	switch p.Kind {
	case SingleProduct:
		action.ProductRetailerID = p.ProductRetailerID
	case MultiProduct:
		in.Header = &interactiveHeader{Type: "text", Text: p.Header}
		action.Sections = sections(p.Sections)
	case CatalogMessage:
		// A catalog message has no catalog_id: it opens the catalog connected
		// to the sending number.
		action = productAction{Name: "catalog_message"}
		if p.ProductRetailerID != "" {
			action.Parameters = &catalogParameter{ThumbnailProductRetailerID: p.ProductRetailerID}
		}
	}
	in.Action = action
	msg.Interactive = in
	return c.post(ctx, msg)
}

// SendProductTemplate sends the approved template t in place of p, for a
// customer outside the 24-hour window. Only the template's product button is
// filled, from p: a SingleProduct or CatalogMessage goes as a catalog
// template (button sub_type CATALOG, its thumbnail the product), a
// MultiProduct as a multi-product (MPM) template (button sub_type mpm, its
// thumbnail the first product, its sections p's). The template's texts must
// need no parameters. Catalog templates are Cloud only.
func (c *Client) SendProductTemplate(ctx context.Context, s Send, t TemplateRef, p Products) (string, error) {
	if err := c.checkProducts(p); err != nil {
		return "", err
	}
	if t.Name == "" || t.Language == "" {
		return "", invalid("template name and language code are required")
	}
	if p.Kind != MultiProduct && c.generation == OnPremises {
		return "", unsupported("catalog templates are Cloud API only; On-Premises can send an MPM template (sections) instead")
	}
	msg, err := c.envelopeFor(s, "template")
	if err != nil {
		return "", err
	}
	button := component{Type: "button", Index: new(0)}
	action := buttonAction{ThumbnailProductRetailerID: p.ProductRetailerID}
	if p.Kind == MultiProduct {
		button.SubType = mpmTemplateType
		action = buttonAction{ThumbnailProductRetailerID: p.Sections[0].ProductRetailerIDs[0], Sections: sections(p.Sections)}
	} else {
		button.SubType = catalogTemplateType
	}
	button.Parameters = []parameter{{Type: "action", Action: &action}}
	msg.Template = c.template(t.Name, t.Language, t.Namespace)
	msg.Template.Components = []component{button}
	return c.post(ctx, msg)
}

// checkProducts refuses, before sending, what WhatsApp or this generation
// would refuse.
func (c *Client) checkProducts(p Products) error {
	if p.Kind == CatalogMessage && c.generation == OnPremises {
		return unsupported("catalog messages are Cloud API only; send the products as a single- or multi-product message instead")
	}
	switch {
	case p.Kind != CatalogMessage && p.CatalogID == "":
		return invalid("a catalog id is required")
	case p.Kind == SingleProduct && p.ProductRetailerID == "":
		return invalid("a single-product message needs a product retailer id")
	case p.Kind != SingleProduct && p.Body == "":
		return invalid("body is required for " + string(p.Kind))
	case (p.Kind == MultiProduct) != (p.Header != ""):
		return invalid("a header is required for product_list and not allowed otherwise")
	case utf8.RuneCountInString(p.Body) > MaxProductBody:
		return invalid(fmt.Sprintf("body has %d characters, the limit is %d", utf8.RuneCountInString(p.Body), MaxProductBody))
	case utf8.RuneCountInString(p.Footer) > MaxProductFooter:
		return invalid(fmt.Sprintf("footer has %d characters, the limit is %d", utf8.RuneCountInString(p.Footer), MaxProductFooter))
	case utf8.RuneCountInString(p.Header) > MaxProductHeader:
		return invalid(fmt.Sprintf("header has %d characters, the limit is %d", utf8.RuneCountInString(p.Header), MaxProductHeader))
	}
	switch p.Kind {
	case SingleProduct, CatalogMessage:
		if len(p.Sections) > 0 {
			return invalid(string(p.Kind) + " has no sections")
		}
		return nil
	case MultiProduct:
		return checkSections(p.Sections)
	default:
		return invalid(fmt.Sprintf("unknown product message kind %q", p.Kind))
	}
}

func checkSections(ss []Section) error {
	if len(ss) == 0 || len(ss) > MaxSections {
		return invalid(fmt.Sprintf("product_list has %d sections, it needs 1 to %d", len(ss), MaxSections))
	}
	total := 0
	for i, s := range ss {
		if len(ss) > 1 && s.Title == "" {
			return invalid(fmt.Sprintf("section %d has no title; titles are required when there is more than one section", i))
		}
		if n := utf8.RuneCountInString(s.Title); n > MaxSectionTitle {
			return invalid(fmt.Sprintf("section %d title has %d characters, the limit is %d", i, n, MaxSectionTitle))
		}
		if len(s.ProductRetailerIDs) == 0 {
			return invalid(fmt.Sprintf("section %d has no products", i))
		}
		total += len(s.ProductRetailerIDs)
	}
	if total > MaxProductsInAll {
		return invalid(fmt.Sprintf("product_list has %d products, the limit is %d", total, MaxProductsInAll))
	}
	return nil
}

func sections(ss []Section) []productSection {
	out := make([]productSection, len(ss))
	for i, s := range ss {
		out[i] = productSection{Title: s.Title, ProductItems: make([]productItem, len(s.ProductRetailerIDs))}
		for j, id := range s.ProductRetailerIDs {
			out[i].ProductItems[j] = productItem{ProductRetailerID: id}
		}
	}
	return out
}
