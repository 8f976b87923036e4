package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// orderVerb is a decision about an order: the verb people type and the state it sets.
type orderVerb struct {
	name  string
	state commercev1alpha1.OrderState
}

var orderVerbs = []orderVerb{
	{"accept", commercev1alpha1.OrderAccepted},
	{"reject", commercev1alpha1.OrderRejected},
	{"ship", commercev1alpha1.OrderShipped},
	{"deliver", commercev1alpha1.OrderDelivered},
	{"cancel", commercev1alpha1.OrderCancelled},
}

// participle is how a state reads after "order X": the state names already
// are past participles ("accepted", "shipped").
func participle(s commercev1alpha1.OrderState) string { return strings.ToLower(string(s)) }

func (r *root) orderCommand(verb orderVerb) *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   verb.name + " ORDER...",
		Short: fmt.Sprintf("Set WhatsAppOrders to %s; the operator then tells the customer", verb.state),
		Example: fmt.Sprintf("  kubectl whatsapp %s shop-1d9e\n  kubectl whatsapp -n shop %s shop-1d9e shop-77ab -o yaml",
			verb.name, verb.name),
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: r.completeOrders(verb.state),
		RunE: r.verb(&out, func(cmd *cobra.Command, s *session, args []string) error {
			var refused []error
			for _, name := range args {
				order, line, err := s.moveOrder(cmd.Context(), name, verb.state)
				if err != nil {
					refused = append(refused, err)
					continue
				}
				if err := out.result(r.streams.Out, order, line); err != nil {
					return err
				}
			}
			return errors.Join(refused...)
		}),
	}
	out.addFlag(cmd)
	return cmd
}

// moveOrder sets the order's spec.state to `to`, checking the move first so a
// refusal names what the order can do instead. It returns the updated order
// and the line to print.
func (s *session) moveOrder(ctx context.Context, name string, to commercev1alpha1.OrderState) (*commercev1alpha1.WhatsAppOrder, string, error) {
	// Two tries: another person or controller may decide between our read
	// and our write; the optimistic lock makes the API server tell us.
	for attempt := 0; ; attempt++ {
		var order commercev1alpha1.WhatsAppOrder
		if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, &order); err != nil {
			return nil, "", s.notFound("order", name, err)
		}
		from := currentState(&order)
		if from == to {
			return &order, fmt.Sprintf("order %s is already %s", name, to), nil
		}
		if !from.CanMoveTo(to) {
			return nil, "", errors.New(refusal(name, from))
		}
		before := order.DeepCopy()
		order.Spec.State = to
		err := s.client.Patch(ctx, &order, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
		switch {
		case err == nil:
			return &order, fmt.Sprintf("order %s %s (was %s)", name, participle(to), from), nil
		case (apierrors.IsConflict(err) || apierrors.IsInvalid(err)) && attempt == 0:
			continue // read the state that won and judge the move again
		default:
			return nil, "", fmt.Errorf("setting order %s to %s: %w", name, to, err)
		}
	}
}

func currentState(order *commercev1alpha1.WhatsAppOrder) commercev1alpha1.OrderState {
	if order.Spec.State == "" {
		return commercev1alpha1.OrderPending
	}
	return order.Spec.State
}

// refusal says in plain words what an order in state from can still become.
func refusal(name string, from commercev1alpha1.OrderState) string {
	moves := from.Moves()
	if len(moves) == 0 {
		return fmt.Sprintf("order %s is %s, which is final: it cannot be changed any more", name, from)
	}
	words := make([]string, len(moves))
	for i, m := range moves {
		words[i] = participle(m)
	}
	return fmt.Sprintf("order %s is %s: it can be %s", name, from, orList(words))
}

// orList joins words as a sentence does: "a", "a or b", "a, b or c".
func orList(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// notFound turns a NotFound into a sentence naming the namespace looked in,
// the usual reason being a missing -n.
func (s *session) notFound(what, name string, err error) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s %q not found in namespace %q", what, name, s.namespace)
	}
	return fmt.Errorf("reading %s %s: %w", what, name, err)
}
