package v1alpha1

// The kinds that send messages to customers expose their records the same
// way, so the webhook receiver routes status webhooks to any of them by the
// kind named in a message's callback data, without knowing the kind.

// SentMessages are the records of the messages sent about this order: the
// notifications, then the bill (order_details) when one was asked for.
func (o *WhatsAppOrder) SentMessages() []*SentMessage {
	out := make([]*SentMessage, 0, len(o.Status.Notifications)+1)
	for i := range o.Status.Notifications {
		out = append(out, &o.Status.Notifications[i].SentMessage)
	}
	if o.Status.Payment != nil {
		out = append(out, &o.Status.Payment.SentMessage)
	}
	return out
}

// ChannelName is the channel the order arrived on.
func (o *WhatsAppOrder) ChannelName() string { return o.Spec.Channel }

// SentMessages is the record of the reply, when one was sent or is being sent.
func (p *ProductInquiry) SentMessages() []*SentMessage {
	if p.Status.Reply == nil {
		return nil
	}
	return []*SentMessage{p.Status.Reply}
}

// ChannelName is the channel the inquiry arrived on.
func (p *ProductInquiry) ChannelName() string { return p.Spec.Channel }

// SentMessages is the record of the product message.
func (p *ProductMessage) SentMessages() []*SentMessage {
	return []*SentMessage{&p.Status.SentMessage}
}

// ChannelName is the channel the product message is sent on.
func (p *ProductMessage) ChannelName() string { return p.Spec.Channel }
