package fakewhatsapp

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

func (s *Server) handleSent(w http.ResponseWriter, _ *http.Request) {
	sent := s.Sent()
	if sent == nil {
		sent = []SentMessage{} // "[]", not "null", for jq and friends
	}
	writeJSON(w, http.StatusOK, sent)
}

func (s *Server) handleFail(w http.ResponseWriter, r *http.Request) {
	mode := FailureMode(r.URL.Query().Get("mode"))
	count := r.URL.Query().Get("count")
	var err error
	switch count {
	case "all":
		err = s.FailAlways(mode)
	case "":
		err = s.FailNext(mode, 1)
	default:
		n, convErr := strconv.Atoi(count)
		if convErr != nil {
			http.Error(w, fmt.Sprintf("count must be a number or \"all\", got %q", count), http.StatusBadRequest)
			return
		}
		err = s.FailNext(mode, n)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if count == "" {
		count = "1"
	}
	fmt.Fprintf(w, "sends fail with %s: %s\n", mode, count)
}

func (s *Server) handleFailDelivery(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	code, err := strconv.ParseInt(q.Get("code"), 10, 64)
	if q.Get("code") == "" {
		code, err = codeWindowClosed, nil
	}
	n := 1
	if c := q.Get("count"); c != "" && err == nil {
		n, err = strconv.Atoi(c)
	}
	if err == nil {
		err = s.FailDeliveryNext(code, n)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "the next %d accepted sends fail later with code %d\n", n, code)
}

func (s *Server) handleReset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleStatuses(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if s.opts.WebhookURL == "" {
		http.Error(w, "no webhook URL configured", http.StatusConflict)
		return
	}
	id := q.Get("id")
	m, ok := s.lookup(id)
	if !ok {
		http.Error(w, fmt.Sprintf("no accepted send with message id %q", id), http.StatusNotFound)
		return
	}
	statuses := strings.Split(q.Get("statuses"), ",")
	if q.Get("statuses") == "" {
		statuses = autoStatuses
	}
	shuffle, err := strconv.ParseBool(q.Get("shuffle"))
	if err != nil && q.Get("shuffle") != "" {
		http.Error(w, fmt.Sprintf("shuffle must be true or false, got %q", q.Get("shuffle")), http.StatusBadRequest)
		return
	}
	t := s.targetFor(m)
	if err := t.validate(statuses); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.postStatuses(r.Context(), t, statuses, shuffle, 0); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	fmt.Fprintf(w, "posted %d status webhooks for %s\n", len(statuses), id)
}

// handleReply plays the customer: it answers an accepted product message (id,
// or the latest one) with an order (order=SKU:QTY:PRICE:CURRENCY,...) or an
// inquiry (inquiry=SKU).
func (s *Server) handleReply(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	reply := Reply{InquiryProduct: q.Get("inquiry"), Text: q.Get("text"), CatalogID: q.Get("catalog"), Name: q.Get("name")}
	if order := q.Get("order"); order != "" {
		items, err := parseItems(order)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		reply.Items = items
	}
	to := q.Get("id")
	if to == "" {
		last, ok := s.lastProductMessage()
		if !ok {
			http.Error(w, "no product message has been sent yet", http.StatusNotFound)
			return
		}
		to = last.MessageID
	}
	id, err := s.ReplyTo(r.Context(), s.opts.WebhookURL, s.opts.AppSecret, to, reply)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "customer replied to %s with message %s\n", to, id)
}

// lastProductMessage is the latest accepted product message or product template.
func (s *Server) lastProductMessage() (SentMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.sent) - 1; i >= 0; i-- {
		if s.sent[i].Interactive != nil || s.sent[i].TemplateButton != nil {
			return s.sent[i], true
		}
	}
	return SentMessage{}, false
}

// parseItems reads SKU:QTY:PRICE:CURRENCY,... into order items.
func parseItems(s string) ([]OrderItem, error) {
	var items []OrderItem
	for _, part := range strings.Split(s, ",") {
		f := strings.Split(part, ":")
		if len(f) != 4 {
			return nil, fmt.Errorf("order item %q: want SKU:QUANTITY:PRICE:CURRENCY", part)
		}
		qty, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("order item %q: quantity: %w", part, err)
		}
		items = append(items, OrderItem{ProductRetailerID: f[0], Quantity: qty, Price: f[2], Currency: f[3]})
	}
	return items, nil
}

// handleCatalog makes the fake know a catalog and its products (see SetCatalog).
func (s *Server) handleCatalog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("id") == "" || q.Get("products") == "" {
		http.Error(w, "id and products (comma-separated) are required", http.StatusBadRequest)
		return
	}
	s.SetCatalog(q.Get("id"), strings.Split(q.Get("products"), ",")...)
	fmt.Fprintf(w, "catalog %s holds %s\n", q.Get("id"), q.Get("products"))
}

// handlePay plays the customer who received the bill reference (default:
// the latest one): payer is pay, fail or fail-then-pay.
func (s *Server) handlePay(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ref := q.Get("reference")
	if ref == "" {
		ref = s.lastBill()
	}
	if ref == "" {
		http.Error(w, "no bill has been sent yet", http.StatusNotFound)
		return
	}
	payer := Payer(orDefault(q.Get("payer"), string(Pays)))
	if err := s.Pay(r.Context(), s.opts.WebhookURL, s.opts.AppSecret, ref, payer); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "customer answered bill %s: %s\n", ref, payer)
}

// lastBill is the reference of the latest accepted order_details message.
func (s *Server) lastBill() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.sent) - 1; i >= 0; i-- {
		if in := s.sent[i].Interactive; in != nil && in.Type == "order_details" {
			return in.ReferenceID
		}
	}
	return ""
}
