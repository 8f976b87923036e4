package fakewhatsapp

import (
	"fmt"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/bill"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// Interactive is the product message of an accepted interactive send.
type Interactive struct {
	// Type is product, product_list or catalog_message.
	Type      string `json:"type"`
	CatalogID string `json:"catalogID,omitempty"`
	// ProductRetailerID is the product of a single-product message, or the
	// thumbnail of a catalog message.
	ProductRetailerID string    `json:"productRetailerID,omitempty"`
	Sections          []Section `json:"sections,omitempty"`
	Header            string    `json:"header,omitempty"`
	Body              string    `json:"body,omitempty"`
	Footer            string    `json:"footer,omitempty"`
	// ReferenceID, OrderStatus, Currency and Total are an order_details
	// (bill) or order_status message's.
	ReferenceID string      `json:"referenceID,omitempty"`
	OrderStatus string      `json:"orderStatus,omitempty"`
	Currency    string      `json:"currency,omitempty"`
	Total       *bill.Money `json:"total,omitempty"`
}

// Section is one section of a multi-product message or MPM template.
type Section struct {
	Title              string   `json:"title,omitempty"`
	ProductRetailerIDs []string `json:"productRetailerIDs"`
}

// TemplateButton is the product button of an accepted catalog or MPM template.
type TemplateButton struct {
	// SubType is CATALOG or mpm.
	SubType                    string    `json:"subType"`
	ThumbnailProductRetailerID string    `json:"thumbnailProductRetailerID,omitempty"`
	Sections                   []Section `json:"sections,omitempty"`
}

// interactiveRequest is the interactive object of a send, as far as the fake
// checks it.
type interactiveRequest struct {
	Type   string `json:"type"`
	Header *struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"header"`
	Body   *textField `json:"body"`
	Footer *textField `json:"footer"`
	Action *struct {
		Name              string           `json:"name"`
		CatalogID         string           `json:"catalog_id"`
		ProductRetailerID string           `json:"product_retailer_id"`
		Sections          []sectionRequest `json:"sections"`
		// Parameters are a catalog message's, or the order messages'.
		Parameters *struct {
			ThumbnailProductRetailerID string `json:"thumbnail_product_retailer_id"`
			orderParameters
		} `json:"parameters"`
	} `json:"action"`
}

type textField struct {
	Text string `json:"text"`
}

type sectionRequest struct {
	Title        string `json:"title"`
	ProductItems []struct {
		ProductRetailerID string `json:"product_retailer_id"`
	} `json:"product_items"`
}

// buttonActionRequest is the action parameter of a template's product button.
type buttonActionRequest struct {
	ThumbnailProductRetailerID string           `json:"thumbnail_product_retailer_id"`
	Sections                   []sectionRequest `json:"sections"`
	// OrderDetails is the bill of an ORDER_DETAILS button.
	OrderDetails *orderParameters `json:"order_details"`
}

// SetCatalog makes the fake know catalogID with exactly these products. Once
// any catalog is known, a product message naming another catalog or product
// is refused with 131009 (Cloud) or 1009 (On-Premises), as WhatsApp refuses
// ids that are not in the business's catalogs; with none known, any id goes.
func (s *Server) SetCatalog(catalogID string, productRetailerIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.catalogs == nil {
		s.catalogs = map[string][]string{}
	}
	s.catalogs[catalogID] = slices.Clone(productRetailerIDs)
}

// unknownIDs checks the ids a product message names against the known
// catalogs; catalogID is empty where the message names none (a catalog
// message, a template), and the products may then be in any catalog.
func (s *Server) unknownIDs(catalogID string, products []string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.catalogs) == 0 {
		return ""
	}
	if catalogID != "" {
		known, ok := s.catalogs[catalogID]
		if !ok {
			return fmt.Sprintf("catalog %s is not connected to this WhatsApp Business Account", catalogID)
		}
		for _, p := range products {
			if !slices.Contains(known, p) {
				return fmt.Sprintf("Product with retailer id %s not found in catalog %s", p, catalogID)
			}
		}
		return ""
	}
	for _, p := range products {
		found := false
		for _, known := range s.catalogs {
			found = found || slices.Contains(known, p)
		}
		if !found {
			return fmt.Sprintf("Product with retailer id %s not found in any connected catalog", p)
		}
	}
	return ""
}

// unknownProduct answers a product message naming an unknown catalog or product.
func unknownProduct(gen whatsapp.Generation, details string) apiError {
	if gen == whatsapp.OnPremises {
		return apiError{status: http.StatusBadRequest, code: 1009, message: "Parameter value is not valid", details: details}
	}
	return apiError{status: http.StatusBadRequest, code: 131009, message: "(#131009) Parameter value is not valid", details: details}
}

// validateInteractive returns why WhatsApp would refuse an interactive
// product message, or "".
func validateInteractive(gen whatsapp.Generation, in *interactiveRequest) string {
	if in == nil {
		return "interactive is required"
	}
	if in.Action == nil {
		return "interactive.action is required"
	}
	if p := textLimits(in); p != "" {
		return p
	}
	a := in.Action
	switch in.Type {
	case "product":
		switch {
		case in.Header != nil:
			return "interactive.header is not allowed for type product"
		case a.CatalogID == "" || a.ProductRetailerID == "":
			return "interactive.action.catalog_id and product_retailer_id are required for type product"
		}
	case "product_list":
		switch {
		case in.Header == nil || in.Header.Type != "text" || in.Header.Text == "":
			return "interactive.header of type text is required for type product_list"
		case in.Body == nil || in.Body.Text == "":
			return "interactive.body is required for type product_list"
		case a.CatalogID == "":
			return "interactive.action.catalog_id is required for type product_list"
		}
		return validateSections(a.Sections, "interactive.action.sections")
	case "order_details", "order_status":
		return validateOrderMessage(gen, in)
	case "catalog_message":
		switch {
		case gen == whatsapp.OnPremises:
			return "interactive type catalog_message is not supported"
		case in.Body == nil || in.Body.Text == "":
			return "interactive.body is required for type catalog_message"
		case a.Name != "catalog_message":
			return `interactive.action.name must be "catalog_message"`
		}
	default:
		return fmt.Sprintf("interactive.type %q is not a product message type the fake knows", in.Type)
	}
	return ""
}

func textLimits(in *interactiveRequest) string {
	switch {
	case in.Header != nil && utf8.RuneCountInString(in.Header.Text) > whatsapp.MaxProductHeader:
		return fmt.Sprintf("interactive.header.text is longer than %d characters", whatsapp.MaxProductHeader)
	case in.Body != nil && utf8.RuneCountInString(in.Body.Text) > whatsapp.MaxProductBody:
		return fmt.Sprintf("interactive.body.text is longer than %d characters", whatsapp.MaxProductBody)
	case in.Footer != nil && utf8.RuneCountInString(in.Footer.Text) > whatsapp.MaxProductFooter:
		return fmt.Sprintf("interactive.footer.text is longer than %d characters", whatsapp.MaxProductFooter)
	}
	return ""
}

func validateSections(ss []sectionRequest, field string) string {
	if len(ss) == 0 || len(ss) > whatsapp.MaxSections {
		return fmt.Sprintf("%s must hold 1 to %d sections, not %d", field, whatsapp.MaxSections, len(ss))
	}
	total := 0
	for i, sec := range ss {
		switch {
		case len(ss) > 1 && sec.Title == "":
			return fmt.Sprintf("%s[%d].title is required when there is more than one section", field, i)
		case utf8.RuneCountInString(sec.Title) > whatsapp.MaxSectionTitle:
			return fmt.Sprintf("%s[%d].title is longer than %d characters", field, i, whatsapp.MaxSectionTitle)
		case len(sec.ProductItems) == 0:
			return fmt.Sprintf("%s[%d].product_items is required", field, i)
		}
		for j, item := range sec.ProductItems {
			if item.ProductRetailerID == "" {
				return fmt.Sprintf("%s[%d].product_items[%d].product_retailer_id is required", field, i, j)
			}
		}
		total += len(sec.ProductItems)
	}
	if total > whatsapp.MaxProductsInAll {
		return fmt.Sprintf("%s hold %d products, at most %d are allowed", field, total, whatsapp.MaxProductsInAll)
	}
	return ""
}

// validateButton returns why WhatsApp would refuse a template's product button, or "".
func validateButton(gen whatsapp.Generation, subType string, action *buttonActionRequest) string {
	switch subType {
	case "CATALOG":
		if gen == whatsapp.OnPremises {
			return "catalog templates are not supported"
		}
		if action == nil {
			return "the CATALOG button needs an action parameter"
		}
	case "mpm":
		if action == nil || action.ThumbnailProductRetailerID == "" {
			return "the mpm button needs an action with thumbnail_product_retailer_id"
		}
		return validateSections(action.Sections, "button action.sections")
	case "order_details":
		if gen == whatsapp.OnPremises {
			return "payments are Cloud API only"
		}
		if action == nil || action.OrderDetails == nil || action.OrderDetails.ReferenceID == "" || action.OrderDetails.TotalAmount == nil {
			return "the order_details button needs an action with order_details"
		}
	default:
		return fmt.Sprintf("button sub_type %q is not one the fake knows", subType)
	}
	return ""
}

// productIDs lists the catalog and product ids a send names, for the catalog check.
func productIDs(req *sendRequest) (catalogID string, products []string) {
	if in := req.Interactive; in != nil && in.Action != nil {
		products = sectionProducts(in.Action.Sections)
		if in.Action.ProductRetailerID != "" {
			products = append(products, in.Action.ProductRetailerID)
		}
		if p := in.Action.Parameters; p != nil && p.ThumbnailProductRetailerID != "" {
			products = append(products, p.ThumbnailProductRetailerID)
		}
		return in.Action.CatalogID, products
	}
	if b := templateButton(req); b != nil && b.action != nil {
		products = sectionProducts(b.action.Sections)
		if b.action.ThumbnailProductRetailerID != "" {
			products = append(products, b.action.ThumbnailProductRetailerID)
		}
	}
	return "", products
}

func sectionProducts(ss []sectionRequest) []string {
	var out []string
	for _, sec := range ss {
		for _, item := range sec.ProductItems {
			out = append(out, item.ProductRetailerID)
		}
	}
	return out
}

func recordSections(ss []sectionRequest) []Section {
	if len(ss) == 0 {
		return nil
	}
	out := make([]Section, len(ss))
	for i, sec := range ss {
		out[i].Title = sec.Title
		for _, item := range sec.ProductItems {
			out[i].ProductRetailerIDs = append(out[i].ProductRetailerIDs, item.ProductRetailerID)
		}
	}
	return out
}

// recordInteractive copies what an accepted interactive send showed.
func recordInteractive(in *interactiveRequest) *Interactive {
	out := &Interactive{Type: in.Type, CatalogID: in.Action.CatalogID, ProductRetailerID: in.Action.ProductRetailerID, Sections: recordSections(in.Action.Sections)}
	if p := in.Action.Parameters; p != nil {
		out.ProductRetailerID = p.ThumbnailProductRetailerID
		out.ReferenceID, out.Currency, out.Total = p.ReferenceID, p.Currency, p.TotalAmount
		if p.Order != nil {
			out.OrderStatus = p.Order.Status
		}
	}
	if in.Header != nil {
		out.Header = in.Header.Text
	}
	if in.Body != nil {
		out.Body = in.Body.Text
	}
	if in.Footer != nil {
		out.Footer = in.Footer.Text
	}
	return out
}

// button is a template's product button as sent.
type button struct {
	subType string
	action  *buttonActionRequest
}

// templateButton returns the first product button of a template send, or nil.
func templateButton(req *sendRequest) *button {
	if req.Template == nil {
		return nil
	}
	for _, c := range req.Template.Components {
		if c.Type != "button" {
			continue
		}
		b := &button{subType: c.SubType}
		for _, p := range c.Parameters {
			if p.Type == "action" {
				b.action = p.Action
			}
		}
		return b
	}
	return nil
}
