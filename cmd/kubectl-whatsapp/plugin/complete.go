package plugin

import (
	"context"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// Shell completion offers the names of the resources in the namespace of the
// command line's -n (or the kubeconfig's). `kubectl-whatsapp completion bash`
// prints the script; kubectl (1.26+) completes `kubectl whatsapp` through a
// kubectl_complete-whatsapp executable that calls `kubectl-whatsapp __complete "$@"`.

type namesFunc func(ctx context.Context, s *session) ([]string, error)

// completeFirst completes the first argument with names, and nothing after it.
func (r *root) completeFirst(names namesFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return r.complete(cmd, names, nil, toComplete)
	}
}

// completeOrders completes any number of orders that can move to state,
// leaving out those already on the command line.
func (r *root) completeOrders(state commercev1alpha1.OrderState) cobra.CompletionFunc {
	movable := func(ctx context.Context, s *session) ([]string, error) {
		var list commercev1alpha1.WhatsAppOrderList
		if err := s.client.List(ctx, &list, client.InNamespace(s.namespace)); err != nil {
			return nil, err
		}
		var names []string
		for i := range list.Items {
			if currentState(&list.Items[i]).CanMoveTo(state) {
				names = append(names, list.Items[i].Name)
			}
		}
		return names, nil
	}
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return r.complete(cmd, movable, args, toComplete)
	}
}

func (r *root) complete(cmd *cobra.Command, names namesFunc, exclude []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	s, err := r.connect()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	all, err := names(cmd.Context(), s)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out []cobra.Completion
	for _, n := range all {
		if strings.HasPrefix(n, prefix) && !slices.Contains(exclude, n) {
			out = append(out, n)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// listNames lists the names of the objects of list's kind, in the session's
// namespace unless the kind is cluster-scoped.
func listNames(newList func() client.ObjectList, namespaced bool) namesFunc {
	return func(ctx context.Context, s *session) ([]string, error) {
		list := newList()
		var opts []client.ListOption
		if namespaced {
			opts = append(opts, client.InNamespace(s.namespace))
		}
		if err := s.client.List(ctx, list, opts...); err != nil {
			return nil, err
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		names := make([]string, 0, len(items))
		for _, item := range items {
			if obj, err := meta.Accessor(item); err == nil {
				names = append(names, obj.GetName())
			}
		}
		return names, nil
	}
}

var (
	orderNames          = listNames(func() client.ObjectList { return &commercev1alpha1.WhatsAppOrderList{} }, true)
	inquiryNames        = listNames(func() client.ObjectList { return &commercev1alpha1.ProductInquiryList{} }, true)
	channelNames        = listNames(func() client.ObjectList { return &commercev1alpha1.WhatsAppChannelList{} }, true)
	namespaceNames      = listNames(func() client.ObjectList { return &corev1.NamespaceList{} }, false)
	productMessageNames = listNames(func() client.ObjectList { return newProductMessageList() }, true)
)

// registerFlagCompletions completes -n with the cluster's namespaces and
// --context with the kubeconfig's contexts, as kubectl does.
func (r *root) registerFlagCompletions(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("namespace", func(c *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return r.complete(c, namespaceNames, nil, prefix)
	})
	_ = cmd.RegisterFlagCompletionFunc("context", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		raw, err := r.flags.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var names []cobra.Completion
		for name := range raw.Contexts {
			names = append(names, name)
		}
		slices.Sort(names)
		return names, cobra.ShellCompDirectiveNoFileComp
	})
}
