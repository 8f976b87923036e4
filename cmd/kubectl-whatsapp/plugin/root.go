// Package plugin is the kubectl whatsapp plugin: verbs for the decisions and
// questions people have about orders, inquiries, channels and product messages,
// in place of hand-written patches and jsonpath.
package plugin

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// NewCommand is the plugin's root command. kubectl runs kubectl-whatsapp for
// `kubectl whatsapp`, so it takes kubectl's connection flags (-n, --context,
// --kubeconfig and the rest of cli-runtime's set).
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	r := &root{flags: genericclioptions.NewConfigFlags(true), streams: streams}
	cmd := &cobra.Command{
		Use:   "kubectl-whatsapp",
		Short: "Decide orders, answer inquiries and follow product messages of the WhatsApp commerce operator",
		Long: `kubectl whatsapp works on the resources of the WhatsApp commerce operator
(WhatsAppOrder, ProductInquiry, WhatsAppChannel, ProductMessage) in the current
namespace, or the one given with -n.`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl whatsapp"},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	r.flags.AddFlags(cmd.PersistentFlags())
	r.registerFlagCompletions(cmd)
	for _, verb := range orderVerbs {
		cmd.AddCommand(r.orderCommand(verb))
	}
	cmd.AddCommand(r.replyCommand(), r.webhookURLCommand(), r.traceCommand(), r.sendProductCommand(), r.funnelCommand(), r.requestPaymentCommand())
	return cmd
}

// root holds what every verb shares: the connection flags and the streams.
type root struct {
	flags   *genericclioptions.ConfigFlags
	streams genericiooptions.IOStreams
}

// session is a connection to the cluster, in the namespace the flags chose.
type session struct {
	client    client.Client
	namespace string
}

// verb is the RunE of a command: it checks -o, connects, then does the work.
func (r *root) verb(out *output, do func(cmd *cobra.Command, s *session, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := out.validate(); err != nil {
			return err
		}
		s, err := r.connect()
		if err != nil {
			return err
		}
		return do(cmd, s, args)
	}
}

func (r *root) connect() (*session, error) {
	cfg, err := r.flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	ns, _, err := r.flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, fmt.Errorf("choosing the namespace: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	return &session{client: c, namespace: ns}, nil
}

// scheme knows the built-in kinds the plugin reads (Secrets, Events) and the
// operator's typed kinds; ProductMessages are read as unstructured objects.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(commercev1alpha1.AddToScheme(s))
	return s
}()
