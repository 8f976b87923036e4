package plugin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

func (r *root) replyCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "reply INQUIRY TEXT...",
		Short: "Answer a ProductInquiry; the operator sends the text to the customer in their thread",
		Example: `  kubectl whatsapp reply shop-5c2a "Yes, it is in stock in blue and red."
  kubectl whatsapp reply shop-5c2a Yes, in stock`,
		Args:              cobra.MinimumNArgs(2),
		ValidArgsFunction: r.completeFirst(inquiryNames),
		RunE: r.verb(&out, func(cmd *cobra.Command, s *session, args []string) error {
			inq, line, err := s.reply(cmd.Context(), args[0], strings.Join(args[1:], " "))
			if err != nil {
				return err
			}
			return out.result(r.streams.Out, inq, line)
		}),
	}
	out.addFlag(cmd)
	return cmd
}

// reply sets the inquiry's spec.reply.text, once: WhatsApp cannot take a
// message back, so the CRD refuses a second, different reply.
func (s *session) reply(ctx context.Context, name, text string) (*commercev1alpha1.ProductInquiry, string, error) {
	var inq commercev1alpha1.ProductInquiry
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, &inq); err != nil {
		return nil, "", s.notFound("inquiry", name, err)
	}
	if refused := replyRefusal(&inq, text); refused != "" {
		return nil, "", fmt.Errorf("%s", refused)
	}
	if inq.Spec.Reply != nil {
		return &inq, fmt.Sprintf("inquiry %s already has this reply (%s)", name, inq.Status.Phase), nil
	}
	before := inq.DeepCopy()
	inq.Spec.Reply = &commercev1alpha1.InquiryReply{Text: text}
	if err := s.client.Patch(ctx, &inq, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return nil, "", fmt.Errorf("setting the reply of inquiry %s: %w", name, err)
	}
	line := fmt.Sprintf("inquiry %s: reply queued for %s", name, customerName(inq.Spec.Customer))
	if inq.Status.WindowExpiresAt != nil {
		line += fmt.Sprintf(" (window open until %s)", inq.Status.WindowExpiresAt.UTC().Format(time.RFC3339))
	}
	return &inq, line, nil
}

// replyRefusal says why text cannot be the inquiry's reply, or "" when it can.
func replyRefusal(inq *commercev1alpha1.ProductInquiry, text string) string {
	if inq.Spec.Reply != nil && inq.Spec.Reply.Text != text {
		return fmt.Sprintf("inquiry %s was already answered with %q: a reply cannot be changed once set", inq.Name, inq.Spec.Reply.Text)
	}
	if inq.Spec.Reply == nil && inq.Status.Phase == commercev1alpha1.InquiryExpired {
		closed := "its 24-hour window closed"
		if inq.Status.WindowExpiresAt != nil {
			closed = "its 24-hour window closed at " + inq.Status.WindowExpiresAt.UTC().Format(time.RFC3339)
		}
		return fmt.Sprintf("inquiry %s is Expired: %s and WhatsApp refuses free-form replies after it; send a product message with a template instead", inq.Name, closed)
	}
	return ""
}

// customerName is how a customer is named in a sentence: profile name and
// phone number, or the user id WhatsApp gave instead of a number.
func customerName(c commercev1alpha1.Customer) string {
	id := c.WaID
	if id == "" {
		id = c.UserID
	}
	if c.Name == "" {
		return id
	}
	return fmt.Sprintf("%s (%s)", c.Name, id)
}
