package main_test

// These tests build kubectl-whatsapp and run it, as a user would, against a
// real kube-apiserver with the operator's CRDs, through a kubeconfig file.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

var (
	env        *testenv.Env
	ctx        = context.Background()
	binary     string
	kubeconfig string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kubectl-whatsapp-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := testenv.Run(m, &env, func(e *testenv.Env) (func(), error) {
		binary = filepath.Join(dir, "kubectl-whatsapp")
		if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building kubectl-whatsapp: %v\n%s", err, out)
		}
		kubeconfig = filepath.Join(dir, "kubeconfig")
		return nil, writeKubeconfig(e, kubeconfig)
	})
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// writeKubeconfig writes the envtest admin's credentials with two contexts:
// "envtest" (namespace default) and "shop", whose namespace each test that
// uses it sets.
func writeKubeconfig(e *testenv.Env, path string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: e.Config.Host, CertificateAuthorityData: e.Config.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: e.Config.CertData, ClientKeyData: e.Config.KeyData, Token: e.Config.BearerToken}
	cfg.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin", Namespace: "default"}
	cfg.Contexts["shop"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "envtest"
	return clientcmd.WriteToFile(*cfg, path)
}

// result is what a run of the plugin printed.
type result struct {
	stdout, stderr string
	code           int
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running kubectl-whatsapp %v: %v", args, err)
	}
	return res
}

// ok runs the plugin and fails the test unless it succeeded.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	res := run(t, args...)
	if res.code != 0 {
		t.Fatalf("kubectl-whatsapp %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res.stdout
}

// refused runs the plugin, expecting it to fail and say want on stderr.
func refused(t *testing.T, want string, args ...string) {
	t.Helper()
	res := run(t, args...)
	if res.code == 0 {
		t.Fatalf("kubectl-whatsapp %s succeeded (%q); want a refusal saying %q", strings.Join(args, " "), res.stdout, want)
	}
	if strings.TrimSpace(res.stderr) != want {
		t.Fatalf("kubectl-whatsapp %s said %q; want %q", strings.Join(args, " "), res.stderr, want)
	}
}

func newOrder(t *testing.T, ns string) *commercev1alpha1.WhatsAppOrder {
	t.Helper()
	o := &commercev1alpha1.WhatsAppOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "shop-"},
		Spec: commercev1alpha1.WhatsAppOrderSpec{
			Channel:    "shop",
			MessageID:  "wamid.order-" + ns,
			ReceivedAt: metav1.NewTime(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)),
			Customer:   commercev1alpha1.Customer{WaID: "16505551234", Name: "Sheena Nelson"},
			CatalogID:  "194836987003835",
			Items: []commercev1alpha1.OrderItem{
				{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "7.99", Currency: "USD"},
			},
		},
	}
	must(t, env.Client.Create(ctx, o))
	return o
}

func state(t *testing.T, o *commercev1alpha1.WhatsAppOrder) commercev1alpha1.OrderState {
	t.Helper()
	var got commercev1alpha1.WhatsAppOrder
	must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(o), &got))
	return got.Spec.State
}

func TestOrderVerbsMoveTheOrderAndSayWhatIsLeft(t *testing.T) {
	ns := env.Namespace(t)
	o := newOrder(t, ns)

	if got, want := ok(t, "-n", ns, "accept", o.Name), fmt.Sprintf("order %s accepted (was Pending)\n", o.Name); got != want {
		t.Errorf("accept printed %q, want %q", got, want)
	}
	if s := state(t, o); s != commercev1alpha1.OrderAccepted {
		t.Fatalf("after accept the order is %s, want Accepted", s)
	}
	refused(t, fmt.Sprintf("order %s is Accepted: it can be shipped or cancelled", o.Name), "-n", ns, "reject", o.Name)
	if s := state(t, o); s != commercev1alpha1.OrderAccepted {
		t.Fatalf("a refused reject changed the order to %s", s)
	}
	if got, want := ok(t, "-n", ns, "accept", o.Name), fmt.Sprintf("order %s is already Accepted\n", o.Name); got != want {
		t.Errorf("accepting twice printed %q, want %q", got, want)
	}
	ok(t, "-n", ns, "ship", o.Name)
	refused(t, fmt.Sprintf("order %s is Shipped: it can be delivered", o.Name), "-n", ns, "cancel", o.Name)
	ok(t, "-n", ns, "deliver", o.Name)
	refused(t, fmt.Sprintf("order %s is Delivered, which is final: it cannot be changed any more", o.Name), "-n", ns, "cancel", o.Name)
	if s := state(t, o); s != commercev1alpha1.OrderDelivered {
		t.Fatalf("the order ended %s, want Delivered", s)
	}

	fresh := newOrder(t, ns)
	refused(t, fmt.Sprintf("order %s is Pending: it can be accepted, rejected or cancelled", fresh.Name), "-n", ns, "ship", fresh.Name)
	refused(t, fmt.Sprintf(`order "nope" not found in namespace %q`, ns), "-n", ns, "accept", "nope")
}

func TestOrderVerbsTakeSeveralOrdersAndPrintObjects(t *testing.T) {
	ns := env.Namespace(t)
	a, b := newOrder(t, ns), newOrder(t, ns)
	out := ok(t, "-n", ns, "reject", a.Name, b.Name)
	want := fmt.Sprintf("order %s rejected (was Pending)\norder %s rejected (was Pending)\n", a.Name, b.Name)
	if out != want {
		t.Errorf("reject of two orders printed %q, want %q", out, want)
	}

	c := newOrder(t, ns)
	var printed commercev1alpha1.WhatsAppOrder
	if err := json.Unmarshal([]byte(ok(t, "-n", ns, "cancel", c.Name, "-o", "json")), &printed); err != nil {
		t.Fatalf("cancel -o json did not print JSON: %v", err)
	}
	if printed.Kind != "WhatsAppOrder" || printed.APIVersion != "commerce.wa.dev/v1alpha1" || printed.Name != c.Name || printed.Spec.State != commercev1alpha1.OrderCancelled {
		t.Errorf("cancel -o json printed %s %s %s state %s; want the cancelled WhatsAppOrder", printed.APIVersion, printed.Kind, printed.Name, printed.Spec.State)
	}
	yamlOut := ok(t, "-n", ns, "accept", newOrder(t, ns).Name, "-o", "yaml")
	if !strings.Contains(yamlOut, "kind: WhatsAppOrder\n") || !strings.Contains(yamlOut, "state: Accepted\n") {
		t.Errorf("accept -o yaml printed:\n%s", yamlOut)
	}
}

func TestContextFlagChoosesTheNamespace(t *testing.T) {
	ns := env.Namespace(t)
	o := newOrder(t, ns)
	// A kubeconfig of its own, whose "shop" context points at the test's namespace.
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	must(t, err)
	cfg.Contexts["shop"].Namespace = ns
	own := filepath.Join(t.TempDir(), "kubeconfig")
	must(t, clientcmd.WriteToFile(*cfg, own))

	res := run(t, "--kubeconfig", own, "accept", o.Name)
	if res.code == 0 {
		t.Fatalf("accept in the current context (namespace default) found order %s of namespace %s", o.Name, ns)
	}
	if out := ok(t, "--kubeconfig", own, "--context", "shop", "accept", o.Name); !strings.Contains(out, "accepted") {
		t.Errorf("accept --context shop printed %q", out)
	}
	if s := state(t, o); s != commercev1alpha1.OrderAccepted {
		t.Errorf("after accept --context shop the order is %s", s)
	}
}

func newInquiry(t *testing.T, ns string) *commercev1alpha1.ProductInquiry {
	t.Helper()
	q := &commercev1alpha1.ProductInquiry{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "shop-"},
		Spec: commercev1alpha1.ProductInquirySpec{
			Channel:    "shop",
			MessageID:  "wamid.inquiry",
			ReceivedAt: metav1.NewTime(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)),
			Customer:   commercev1alpha1.Customer{UserID: "US.13491208655302741918", Name: "Kerry Fisher"},
			Product:    commercev1alpha1.ProductReference{CatalogID: "194836987003835", ProductRetailerID: "di9ozbzfi4"},
			Question:   "Is this still available?",
		},
	}
	must(t, env.Client.Create(ctx, q))
	return q
}

func TestReplySetsTheReplyOnce(t *testing.T) {
	ns := env.Namespace(t)
	q := newInquiry(t, ns)
	out := ok(t, "-n", ns, "reply", q.Name, "Yes,", "in", "stock")
	if want := fmt.Sprintf("inquiry %s: reply queued for Kerry Fisher (US.13491208655302741918)\n", q.Name); out != want {
		t.Errorf("reply printed %q, want %q", out, want)
	}
	var got commercev1alpha1.ProductInquiry
	must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(q), &got))
	if got.Spec.Reply == nil || got.Spec.Reply.Text != "Yes, in stock" {
		t.Fatalf("spec.reply is %+v, want the text Yes, in stock", got.Spec.Reply)
	}
	if out := ok(t, "-n", ns, "reply", q.Name, "Yes, in stock"); !strings.Contains(out, "already has this reply") {
		t.Errorf("the same reply again printed %q", out)
	}
	refused(t, fmt.Sprintf(`inquiry %s was already answered with "Yes, in stock": a reply cannot be changed once set`, q.Name),
		"-n", ns, "reply", q.Name, "No")

	expired := newInquiry(t, ns)
	closed := metav1.NewTime(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	expired.Status = commercev1alpha1.ProductInquiryStatus{Phase: commercev1alpha1.InquiryExpired, WindowExpiresAt: &closed}
	must(t, env.Client.Status().Update(ctx, expired))
	refused(t, fmt.Sprintf("inquiry %s is Expired: its 24-hour window closed at 2026-12-02T09:00:00Z and WhatsApp refuses free-form replies after it; send a product message with a template instead", expired.Name),
		"-n", ns, "reply", expired.Name, "Sorry")
}

func TestWebhookURLSaysWhatToEnterWithoutSecrets(t *testing.T) {
	ns := env.Namespace(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-whatsapp"},
		Data: map[string][]byte{
			commercev1alpha1.SecretKeyWebhookToken: []byte("token-value-never-printed"),
			commercev1alpha1.SecretKeyAppSecret:    []byte("app-secret-never-printed"),
			commercev1alpha1.SecretKeyVerifyToken:  []byte("verify-token-never-printed"),
		},
	}
	must(t, env.Client.Create(ctx, secret))
	ch := &commercev1alpha1.WhatsAppChannel{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"},
		Spec: commercev1alpha1.WhatsAppChannelSpec{
			PhoneNumberID: "106540352242922",
			SecretRef:     commercev1alpha1.SecretReference{Name: secret.Name},
		},
	}
	must(t, env.Client.Create(ctx, ch))
	refused(t, "channel shop has no webhook path yet (the operator has not reported on it yet)", "-n", ns, "webhook-url", "shop")

	ch.Status.WebhookPath = "/webhooks/3f9a0c"
	meta.SetStatusCondition(&ch.Status.Conditions, metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "ChannelReady", Message: "ready"})
	must(t, env.Client.Status().Update(ctx, ch))

	out := ok(t, "-n", ns, "webhook-url", "shop", "--base-url", "https://wa.example.com/whatsapp/")
	for _, want := range []string{
		"Callback URL:  https://wa.example.com/whatsapp/webhooks/3f9a0c\n",
		"Verify token:  the key verifyToken of Secret shop-whatsapp: kubectl get secret -n " + ns + " shop-whatsapp -o jsonpath='{.data.verifyToken}' | base64 -d\n",
		`subscribe to the` + "\n" + `"messages" webhook field`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("webhook-url output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Warning") {
		t.Errorf("webhook-url warns about a Ready channel:\n%s", out)
	}
	for _, value := range secret.Data {
		if strings.Contains(out, string(value)) {
			t.Errorf("webhook-url printed a secret value:\n%s", out)
		}
	}

	// Without --base-url it prints the path and how to get the whole URL.
	if out := ok(t, "-n", ns, "webhook-url", "shop"); !strings.Contains(out, "/webhooks/3f9a0c   (--base-url prints it whole)") {
		t.Errorf("webhook-url without --base-url printed:\n%s", out)
	}

	// A missing verify token is said, as is a channel that is not Ready.
	delete(secret.Data, commercev1alpha1.SecretKeyVerifyToken)
	must(t, env.Client.Update(ctx, secret))
	meta.SetStatusCondition(&ch.Status.Conditions, metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "SecretKeyMissing", Message: "key appSecret is missing"})
	must(t, env.Client.Status().Update(ctx, ch))
	out = ok(t, "-n", ns, "webhook-url", "shop", "--base-url", "https://wa.example.com")
	for _, want := range []string{
		"Verify token:  not set: add the key verifyToken of Secret shop-whatsapp; the GET verification handshake is refused until it is set\n",
		"Warning: channel shop is not Ready (SecretKeyMissing: key appSecret is missing); the receiver answers 503 until it is.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("webhook-url output lacks %q:\n%s", want, out)
		}
	}

	var setup struct {
		CallbackURL string `json:"callbackURL"`
		Ready       bool   `json:"ready"`
		VerifyToken struct {
			Present *bool `json:"present"`
		} `json:"verifyToken"`
	}
	must(t, json.Unmarshal([]byte(ok(t, "-n", ns, "webhook-url", "shop", "--base-url", "https://wa.example.com:8443", "-o", "json")), &setup))
	if setup.CallbackURL != "https://wa.example.com:8443/webhooks/3f9a0c" || setup.Ready || setup.VerifyToken.Present == nil || *setup.VerifyToken.Present {
		t.Errorf("webhook-url -o json gave %+v", setup)
	}
	refused(t, `--base-url "wa.example.com" is not an http(s) address such as https://whatsapp.example.com`, "-n", ns, "webhook-url", "shop", "--base-url", "wa.example.com")
}

func TestTraceTellsTheOrdersStoryInTimeOrder(t *testing.T) {
	ns := env.Namespace(t)
	o := newOrder(t, ns)
	created := o.CreationTimestamp.Time
	at := func(d time.Duration) *metav1.Time { t := metav1.NewTime(created.Add(d)); return &t }
	o.Spec.State = commercev1alpha1.OrderAccepted
	must(t, env.Client.Update(ctx, o))
	o.Status = commercev1alpha1.WhatsAppOrderStatus{
		Phase: commercev1alpha1.OrderPhase(commercev1alpha1.OrderAccepted), ItemCount: 2, Total: "15.98", Currency: "USD",
		Notifications: []commercev1alpha1.OrderNotification{
			{State: commercev1alpha1.OrderPending, SentMessage: commercev1alpha1.SentMessage{MessageID: "wamid.n1", DeliveryStatus: commercev1alpha1.DeliveryRead, SentAt: at(2 * time.Second), UpdatedAt: at(5 * time.Minute)}},
			{State: commercev1alpha1.OrderAccepted, SentMessage: commercev1alpha1.SentMessage{MessageID: "wamid.n2", DeliveryStatus: commercev1alpha1.DeliveryFailed, SentAt: at(10 * time.Minute), UpdatedAt: at(11 * time.Minute),
				Error: &commercev1alpha1.MessageError{Code: 131047, Title: "Re-engagement message"}}},
		},
	}
	must(t, env.Client.Status().Update(ctx, o))
	event := func(name, reason, message string, when time.Duration, count int32) {
		must(t, env.Client.Create(ctx, &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: name},
			InvolvedObject: corev1.ObjectReference{APIVersion: "commerce.wa.dev/v1alpha1", Kind: "WhatsAppOrder", Namespace: ns, Name: o.Name, UID: o.UID},
			Type:           corev1.EventTypeNormal, Reason: reason, Message: message,
			FirstTimestamp: *at(when), LastTimestamp: *at(when), Count: count,
			Source: corev1.EventSource{Component: "whatsapporder-controller"},
		}))
	}
	event("e1", "PhaseChanged", "Pending -> Accepted", 10*time.Minute-time.Second, 1)
	event("e2", "CustomerNotifiedRetrying", "WhatsApp answered 500", time.Second, 3)
	// An event of another object with the same name elsewhere is not part of the story.
	other := newOrder(t, env.Namespace(t))
	must(t, env.Client.Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: other.Namespace, Name: "e3"},
		InvolvedObject: corev1.ObjectReference{Kind: "WhatsAppOrder", Namespace: other.Namespace, Name: other.Name, UID: other.UID},
		Type:           corev1.EventTypeWarning, Reason: "InvalidCart", Message: "not this order", FirstTimestamp: *at(0), LastTimestamp: *at(0),
	}))

	out := ok(t, "-n", ns, "trace", o.Name)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{
		"TIME SOURCE WHAT",
		"2026-12-01T09:00:00Z order Sheena Nelson (16505551234) sent the order: 2 x di9ozbzfi4 at 7.99 USD",
		"order order " + o.Name + " created from message wamid.order-" + ns + " on channel shop",
		"event Normal CustomerNotifiedRetrying: WhatsApp answered 500 (3 times)",
		"notification told the customer the order is Pending (message wamid.n1)",
		"notification the Pending message was read",
		"event Normal PhaseChanged: Pending -> Accepted",
		"notification told the customer the order is Accepted (message wamid.n2)",
		"notification the Accepted message was failed: 131047 Re-engagement message",
	}
	if len(lines) != len(want) {
		t.Fatalf("trace printed %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, line := range lines {
		if got := strings.Join(strings.Fields(line), " "); !strings.HasSuffix(got, want[i]) {
			t.Errorf("trace line %d is %q, want it to end with %q", i, got, want[i])
		}
	}
	if !strings.HasPrefix(lines[3], created.Add(time.Second).UTC().Format(time.RFC3339)) {
		t.Errorf("the retry event is not stamped with its time: %q", lines[3])
	}

	var entries []struct {
		Time   time.Time `json:"time"`
		Source string    `json:"source"`
		What   string    `json:"what"`
	}
	must(t, json.Unmarshal([]byte(ok(t, "-n", ns, "trace", o.Name, "-o", "json")), &entries))
	if len(entries) != len(want)-1 || entries[len(entries)-1].Source != "notification" || !entries[len(entries)-1].Time.Equal(created.Add(11*time.Minute).Truncate(time.Second)) {
		t.Errorf("trace -o json gave %+v", entries)
	}
}

func TestCompletionOffersTheOrdersAMoveAppliesTo(t *testing.T) {
	ns := env.Namespace(t)
	pending, accepted := newOrder(t, ns), newOrder(t, ns)
	accepted.Spec.State = commercev1alpha1.OrderAccepted
	must(t, env.Client.Update(ctx, accepted))

	names := func(args ...string) []string {
		out := ok(t, append([]string{"__complete", "-n", ns}, args...)...)
		var names []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if !strings.HasPrefix(line, ":") { // the last line is cobra's directive
				names = append(names, line)
			}
		}
		return names
	}
	if got := names("accept", ""); len(got) != 1 || got[0] != pending.Name {
		t.Errorf("accept completes %v, want only the Pending order %s", got, pending.Name)
	}
	if got := names("ship", ""); len(got) != 1 || got[0] != accepted.Name {
		t.Errorf("ship completes %v, want only the Accepted order %s", got, accepted.Name)
	}
	if got := names("cancel", pending.Name, ""); len(got) != 1 || got[0] != accepted.Name {
		t.Errorf("cancel after %s completes %v, want only %s", pending.Name, got, accepted.Name)
	}
	if got := names("trace", ""); len(got) != 2 {
		t.Errorf("trace completes %v, want both orders", got)
	}
	if script := ok(t, "completion", "bash"); !strings.Contains(script, "__start_kubectl-whatsapp") {
		t.Errorf("completion bash printed no bash completion script")
	}
}

func TestSendProductRefusesIncompleteMessages(t *testing.T) {
	ns := env.Namespace(t)
	refused(t, "give exactly one of --product, --section (one or more) and --catalog-message",
		"-n", ns, "send-product", "--channel", "shop", "--to", "16505551234", "--catalog", "1", "--product", "a", "--catalog-message")
	refused(t, "give the customer with --to (WhatsApp id) or --to-user-id",
		"-n", ns, "send-product", "--channel", "shop", "--catalog", "1", "--product", "a")
	refused(t, `--section "Shirts": write it as "Title=id1,id2,..."`,
		"-n", ns, "send-product", "--channel", "shop", "--to", "1", "--catalog", "1", "--section", "Shirts")
	refused(t, fmt.Sprintf("namespace %q has 0 channels: choose one with --channel", ns),
		"-n", ns, "send-product", "--to", "1", "--catalog", "1", "--product", "a")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSendProductCreatesAProductMessageAndWaitsForIt(t *testing.T) {
	ns := env.Namespace(t)
	q := newInquiry(t, ns)
	// The test plays the operator: once the message exists, it is Sent.
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			key := client.ObjectKey{Namespace: ns, Name: "answer"}
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				var pm commercev1alpha1.ProductMessage
				if err := env.Client.Get(ctx, key, &pm); err != nil {
					continue
				}
				now := metav1.Now()
				pm.Status.Phase = commercev1alpha1.ProductMessageSent
				pm.Status.MessageID, pm.Status.DeliveryStatus, pm.Status.SentAt = "wamid.pm1", commercev1alpha1.DeliverySent, &now
				return env.Client.Status().Update(ctx, &pm)
			}
			return errors.New("the product message was never created")
		}()
	}()
	out := ok(t, "-n", ns, "send-product", "--name", "answer", "--inquiry", q.Name, "--body", "Here it is", "--wait")
	must(t, <-done)
	if want := "productmessage answer sent: product di9ozbzfi4 to US.13491208655302741918 (message wamid.pm1)\n"; out != want {
		t.Errorf("send-product --wait printed %q, want %q", out, want)
	}
	var pm commercev1alpha1.ProductMessage
	must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "answer"}, &pm))
	s := pm.Spec
	if s.Channel != "shop" || s.To.UserID != "US.13491208655302741918" || s.CatalogID != "194836987003835" ||
		s.Product == nil || s.Product.ProductRetailerID != "di9ozbzfi4" || s.Body != "Here it is" || s.Inquiry != q.Name {
		t.Errorf("send-product --inquiry created spec %+v", s)
	}

	// A product list, printed as YAML; the API server's own checks apply.
	yamlOut := ok(t, "-n", ns, "send-product", "--channel", "shop", "--to", "16505551234", "--catalog", "1",
		"--header", "Spring", "--body", "Our picks", "--section", "Shirts=a,b", "--section", "Hats=c", "-o", "yaml")
	if !strings.Contains(yamlOut, "kind: ProductMessage\n") || !strings.Contains(yamlOut, "  title: Hats\n") || strings.Contains(yamlOut, "managedFields") {
		t.Errorf("send-product -o yaml printed:\n%s", yamlOut)
	}
	res := run(t, "-n", ns, "send-product", "--channel", "shop", "--to", "16505551234", "--catalog", "1", "--section", "Shirts=a")
	if res.code == 0 || !strings.Contains(res.stderr, "creating the product message") {
		t.Errorf("a product list without header and body was not refused by the API server: %+v", res)
	}
}

func TestSendProductWaitReportsAFailure(t *testing.T) {
	ns := env.Namespace(t)
	go func() {
		key := client.ObjectKey{Namespace: ns, Name: "late"}
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			var pm commercev1alpha1.ProductMessage
			if env.Client.Get(ctx, key, &pm) != nil {
				continue
			}
			pm.Status.Phase = commercev1alpha1.ProductMessageFailed
			meta.SetStatusCondition(&pm.Status.Conditions, metav1.Condition{Type: "Sent", Status: metav1.ConditionFalse, Reason: "WindowClosed", Message: "the 24-hour window closed and there is no template"})
			_ = env.Client.Status().Update(ctx, &pm)
			return
		}
	}()
	refused(t, "productmessage late failed: WindowClosed: the 24-hour window closed and there is no template",
		"-n", ns, "send-product", "--name", "late", "--channel", "shop", "--to", "16505551234", "--catalog", "1", "--product", "a", "--wait")
}

func TestFunnelAndTraceFollowTheProductMessage(t *testing.T) {
	ns := env.Namespace(t)
	pm := &commercev1alpha1.ProductMessage{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "summer"},
		Spec: commercev1alpha1.ProductMessageSpec{
			Channel: "shop", To: commercev1alpha1.Recipient{WaID: "16505551234"}, CatalogID: "194836987003835",
			Product: &commercev1alpha1.SingleProduct{ProductRetailerID: "di9ozbzfi4"},
		},
	}
	must(t, env.Client.Create(ctx, pm))
	sent := metav1.NewTime(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	pm.Status.Phase, pm.Status.MessageID, pm.Status.DeliveryStatus, pm.Status.SentAt = commercev1alpha1.ProductMessageSent, "wamid.summer", commercev1alpha1.DeliveryRead, &sent
	pm.Status.Inquiries, pm.Status.Orders = 1, 2
	pm.Status.Revenue = []commercev1alpha1.Revenue{{Currency: "EUR", Total: "12.50"}, {Currency: "USD", Total: "15.98"}}
	must(t, env.Client.Status().Update(ctx, pm))
	for _, phase := range []commercev1alpha1.OrderPhase{"Accepted", "Pending"} {
		o := newOrder(t, ns)
		o.Labels = map[string]string{commercev1alpha1.LabelProductMessage: "summer"}
		must(t, env.Client.Update(ctx, o))
		o.Status.Phase = phase
		must(t, env.Client.Status().Update(ctx, o))
	}

	out := ok(t, "-n", ns, "funnel", "summer")
	for _, want := range []string{
		"Product message:  summer (product di9ozbzfi4) to 16505551234\n",
		"Phase:            Sent, message wamid.summer\n",
		"Delivery:         read\n",
		"Inquiries:        1\n",
		"Orders:           2 (Accepted 1, Pending 1)\n",
		"Revenue:          12.50 EUR, 15.98 USD\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("funnel output lacks %q:\n%s", want, out)
		}
	}
	var f struct {
		Orders  int64 `json:"orders"`
		Revenue []struct{ Currency, Total string }
	}
	must(t, json.Unmarshal([]byte(ok(t, "-n", ns, "funnel", "summer", "-o", "json")), &f))
	if f.Orders != 2 || len(f.Revenue) != 2 || f.Revenue[1].Total != "15.98" {
		t.Errorf("funnel -o json gave %+v", f)
	}
	refused(t, fmt.Sprintf(`product message "nope" not found in namespace %q`, ns), "-n", ns, "funnel", "nope")

	// An order that replies to the message, found by its message id.
	o := newOrder(t, ns)
	o.Spec.ReplyToMessageID = "wamid.summer"
	// replyToMessageID is immutable, so the order is created with it.
	o2 := o.DeepCopy()
	o2.ObjectMeta = metav1.ObjectMeta{Namespace: ns, GenerateName: "shop-"}
	must(t, env.Client.Create(ctx, o2))
	trace := ok(t, "-n", ns, "trace", o2.Name)
	if lines := strings.Split(trace, "\n"); len(lines) < 2 || !strings.HasPrefix(strings.Join(strings.Fields(lines[1]), " "),
		"2026-12-01T08:00:00Z product-message product message summer sent to 16505551234 (product di9ozbzfi4)") {
		t.Errorf("trace does not start with the product message:\n%s", trace)
	}
}
