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
