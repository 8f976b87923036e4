package fakewhatsapp

import (
	"context"
	"slices"
	"time"
)

// EarlyStatus is one post of a "sent" status made before its send was
// answered (Options.SentBeforeAnswer), and whether the receiver took it.
type EarlyStatus struct {
	MessageID string
	Accepted  bool
	// Answer is why the receiver did not take it; empty when it did.
	Answer string
}

// EarlyStatuses returns the posts of early statuses so far, oldest first.
func (s *Server) EarlyStatuses() []EarlyStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.early)
}

// postSentBeforeAnswer posts m's "sent" status while its send waits for its
// answer, and keeps posting it in the background while the receiver refuses.
func (s *Server) postSentBeforeAnswer(ctx context.Context, m SentMessage) {
	t := s.targetFor(m)
	body := t.body("sent", time.Now())
	if s.postEarly(ctx, t, body) {
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
			if s.postEarly(s.ctx, t, body) {
				return
			}
		}
	}()
}

// postEarly posts body once, records the outcome and says whether it was taken.
func (s *Server) postEarly(ctx context.Context, t statusTarget, body []byte) bool {
	err := s.post(ctx, t, body)
	e := EarlyStatus{MessageID: t.messageID, Accepted: err == nil}
	if err != nil {
		e.Answer = err.Error()
		s.log.Info("early status webhook refused; posting it again later", "message_id", t.messageID, "err", err)
	}
	s.mu.Lock()
	s.early = append(s.early, e)
	s.mu.Unlock()
	return err == nil
}
