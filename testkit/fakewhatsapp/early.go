package fakewhatsapp

import (
	"context"
	"slices"
	"time"
)

// EarlyStatus is one post of a status made before its send was answered
// (Options.SentBeforeAnswer), and whether the receiver took it.
type EarlyStatus struct {
	MessageID string
	// Status is the status posted: sent, or failed.
	Status   string
	Accepted bool
	// Answer is why the receiver did not take it; empty when it did.
	Answer string
}

// EarlyStatuses returns the posts of early statuses so far, oldest first.
func (s *Server) EarlyStatuses() []EarlyStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.early)
}

// postBeforeAnswer posts status to t while its send waits for its answer,
// and keeps posting it in the background while the receiver refuses.
func (s *Server) postBeforeAnswer(ctx context.Context, t statusTarget, status string) {
	body := t.body(status, time.Now())
	if s.postEarly(ctx, t, status, body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	delay := s.opts.RedeliveryDelay
	if delay <= 0 {
		delay = time.Second
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(delay):
			}
			if s.postEarly(s.ctx, t, status, body) {
				return
			}
		}
	}()
}

// postEarly posts body once, records the outcome and says whether it was taken.
func (s *Server) postEarly(ctx context.Context, t statusTarget, status string, body []byte) bool {
	err := s.post(ctx, t, body)
	e := EarlyStatus{MessageID: t.messageID, Status: status, Accepted: err == nil}
	if err != nil {
		e.Answer = err.Error()
		s.log.Info("early status webhook refused; posting it again later", "message_id", t.messageID, "err", err)
	}
	s.mu.Lock()
	s.early = append(s.early, e)
	s.mu.Unlock()
	return err == nil
}
