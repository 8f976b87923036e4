package plugin

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// webhookSetup is what to enter where WhatsApp is told about the receiver. It
// never holds a secret's value: only where to find it.
type webhookSetup struct {
	Channel     string `json:"channel"`
	API         string `json:"api"`
	Ready       bool   `json:"ready"`
	NotReady    string `json:"notReady,omitempty"`
	Path        string `json:"path"`
	CallbackURL string `json:"callbackURL,omitempty"`
	// VerifyToken and AppSecret say where the values are and whether they are set.
	VerifyToken secretKeyHint `json:"verifyToken"`
	AppSecret   secretKeyHint `json:"appSecret"`
}

type secretKeyHint struct {
	Secret  string `json:"secret"`
	Key     string `json:"key"`
	Present *bool  `json:"present,omitempty"` // nil when the Secret could not be read
	Problem string `json:"problem,omitempty"`
}

func (r *root) webhookURLCommand() *cobra.Command {
	var out output
	var baseURL string
	cmd := &cobra.Command{
		Use:   "webhook-url CHANNEL",
		Short: "Print a channel's webhook callback URL and what to enter in Meta's App Dashboard",
		Long: `webhook-url prints the callback URL of a WhatsAppChannel (its unguessable
status.webhookPath under the receiver's public address) and where its verify
token is kept. Secret values are never printed.`,
		Example:           "  kubectl whatsapp webhook-url shop --base-url https://whatsapp.example.com",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: r.completeFirst(channelNames),
		RunE: r.verb(&out, func(cmd *cobra.Command, s *session, args []string) error {
			setup, err := s.webhookSetup(cmd.Context(), args[0], baseURL)
			if err != nil {
				return err
			}
			return out.report(r.streams.Out, setup, func(w io.Writer) error { return setup.print(w, s.namespace) })
		}),
	}
	cmd.Flags().StringVar(&baseURL, "base-url", "", "The receiver's public address as WhatsApp reaches it (https://host[:port][/prefix]).")
	out.addFlag(cmd)
	return cmd
}

func (s *session) webhookSetup(ctx context.Context, name, baseURL string) (*webhookSetup, error) {
	var ch commercev1alpha1.WhatsAppChannel
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, &ch); err != nil {
		return nil, s.notFound("channel", name, err)
	}
	setup := &webhookSetup{Channel: name, API: string(ch.API()), Path: ch.Status.WebhookPath}
	ready := meta.FindStatusCondition(ch.Status.Conditions, commercev1alpha1.ConditionReady)
	setup.Ready = ready != nil && ready.Status == "True"
	if !setup.Ready {
		setup.NotReady = "the operator has not reported on it yet"
		if ready != nil {
			setup.NotReady = fmt.Sprintf("%s: %s", ready.Reason, ready.Message)
		}
	}
	if setup.Path == "" {
		return nil, fmt.Errorf("channel %s has no webhook path yet (%s)", name, setup.NotReady)
	}
	if baseURL != "" {
		u, err := callbackURL(baseURL, setup.Path)
		if err != nil {
			return nil, err
		}
		setup.CallbackURL = u
	}
	secretName := ch.Spec.SecretRef.Name
	setup.VerifyToken = secretKeyHint{Secret: secretName, Key: commercev1alpha1.SecretKeyVerifyToken}
	setup.AppSecret = secretKeyHint{Secret: secretName, Key: commercev1alpha1.SecretKeyAppSecret}
	var secret corev1.Secret
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: secretName}, &secret); err != nil {
		problem := fmt.Sprintf("could not read Secret %s: %v", secretName, err)
		setup.VerifyToken.Problem, setup.AppSecret.Problem = problem, problem
		return setup, nil
	}
	for _, hint := range []*secretKeyHint{&setup.VerifyToken, &setup.AppSecret} {
		present := len(secret.Data[hint.Key]) > 0
		hint.Present = &present
	}
	return setup, nil
}

// callbackURL puts path under base, keeping base's own path prefix (a receiver
// behind an ingress at /whatsapp, say).
func callbackURL(base, path string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("--base-url %q is not an http(s) address such as https://whatsapp.example.com", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

func (w *webhookSetup) print(out io.Writer, namespace string) error {
	var b strings.Builder
	callback := w.CallbackURL
	if callback == "" {
		callback = "<the receiver's public https address>" + w.Path + "   (--base-url prints it whole)"
	}
	fmt.Fprintf(&b, "Callback URL:  %s\n", callback)
	if w.API == string(commercev1alpha1.APIOnPremises) {
		fmt.Fprintf(&b, "\nIn the On-Premises client, set the application's webhook URL (webhooks.url of\n/v1/settings/application) to the callback URL.\n")
	} else {
		fmt.Fprintf(&b, "Verify token:  %s\n", w.VerifyToken.describe(namespace, "the GET verification handshake is refused until it is set"))
		fmt.Fprintf(&b, "App secret:    %s\n", w.AppSecret.describe(namespace, "deliveries cannot be verified and are refused until it is set"))
		fmt.Fprintf(&b, "\nIn Meta's App Dashboard, WhatsApp > Configuration > Webhook > Edit: enter the\ncallback URL and the verify token, Verify and save, then subscribe to the\n\"messages\" webhook field. The App secret is under App settings > Basic.\n")
	}
	if !w.Ready {
		fmt.Fprintf(&b, "\nWarning: channel %s is not Ready (%s); the receiver answers 503 until it is.\n", w.Channel, w.NotReady)
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// describe says where a secret value is and whether it is set, without the value.
func (h secretKeyHint) describe(namespace, whenMissing string) string {
	where := fmt.Sprintf("key %s of Secret %s", h.Key, h.Secret)
	switch {
	case h.Problem != "":
		return fmt.Sprintf("the %s (%s)", where, h.Problem)
	case !*h.Present:
		return fmt.Sprintf("not set: add the %s; %s", where, whenMissing)
	}
	return fmt.Sprintf("the %s: kubectl get secret -n %s %s -o jsonpath='{.data.%s}' | base64 -d",
		where, namespace, h.Secret, h.Key)
}
