package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/channelsecret"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/notification"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/statuswrite"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// WhatsAppChannelReconciler checks the Secret each channel references and
// publishes the webhook path derived from it, so users know where to point Meta
// and the receiver knows which channel a request is for.
//
// Secrets are not watched (that would need list and watch on every Secret in the
// cluster); each channel is re-read every SecretResyncPeriod instead, so a rotated
// Secret takes effect within that period.
type WhatsAppChannelReconciler struct {
	client.Client
	// APIReader reads straight from the API server: Secrets by name, and the
	// channel again after a status write conflict.
	APIReader          client.Reader
	Recorder           events.EventRecorder
	SecretResyncPeriod time.Duration
	// AllowedAPIURLs are where the operator may send (--allowed-api-urls): a
	// channel whose apiURL is elsewhere is not Ready.
	AllowedAPIURLs whatsapp.AllowedURLs
}

// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsappchannels,verbs=get;list;watch
// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsappchannels/status,verbs=get;update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile runs one pass over a channel, in these phases:
//
//	read        the channel, the generation read, its Secret (channelScope)
//	webhook     the webhook path derived from the Secret's token
//	conditions  Ready, Signed, Reconciling and Stalled follow from the Secret, the apiURL and the notification texts
//	write       one status write, then the events of a readiness or signing change
func (r *WhatsAppChannelReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	s, err := r.read(ctx, req)
	if s == nil || err != nil {
		return ctrl.Result{}, err
	}
	s.webhookPath = webhookPath(s.channel, s.token, s.secretErr)
	s.conditions = channelConditions(s.channel, s.secretErr, s.signed, r.AllowedAPIURLs)
	before := meta.FindStatusCondition(s.channel.Status.Conditions, commercev1alpha1.ConditionReady).DeepCopy()
	signedBefore := meta.FindStatusCondition(s.channel.Status.Conditions, commercev1alpha1.ConditionSigned).DeepCopy()
	written, err := statuswrite.Write(ctx, r.Client, r.APIReader, s.channel, s.apply)
	if err != nil {
		return ctrl.Result{}, err
	}
	if ready := s.conditions[0]; written && (before == nil || before.Status != ready.Status || before.Reason != ready.Reason) {
		r.recordReady(ctx, s.channel, ready)
	}
	if ev, ok := signedEvent(signedBefore, meta.FindStatusCondition(s.conditions, commercev1alpha1.ConditionSigned), s.channel.Spec.SecretRef.Name); written && ok {
		r.Recorder.Eventf(s.channel, nil, ev.eventType, ev.reason, "CheckSecret", "%s", ev.message)
	}
	if s.secretErr != nil && s.secretErr.Transient {
		return ctrl.Result{}, s.secretErr
	}
	return ctrl.Result{RequeueAfter: r.SecretResyncPeriod}, nil
}

// channelScope is what one reconcile of a channel read and decided.
type channelScope struct {
	// Read.
	channel *commercev1alpha1.WhatsAppChannel
	// generation is the channel's generation when it was read.
	generation int64
	// token is the Secret's webhook token, when it has one; secretErr why the
	// Secret is not usable, nil when it is.
	token     []byte
	secretErr *channelsecret.Error
	// signed is whether the Secret has an appSecret.
	signed bool

	// Decided.
	webhookPath string
	conditions  []metav1.Condition
}

// read is the first phase: the channel and its Secret.
func (r *WhatsAppChannelReconciler) read(ctx context.Context, req ctrl.Request) (*channelScope, error) {
	var ch commercev1alpha1.WhatsAppChannel
	if err := r.Get(ctx, req.NamespacedName, &ch); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	vals, err := channelsecret.Read(ctx, r.APIReader, &ch)
	if err == nil {
		err = vals.Check(&ch)
	}
	s := &channelScope{channel: &ch, generation: ch.Generation, token: vals.WebhookToken, signed: len(vals.AppSecret) > 0}
	if err != nil && !errors.As(err, &s.secretErr) {
		return nil, fmt.Errorf("loading the channel's Secret: %w", err)
	}
	return s, nil
}

// apply writes what this pass decided into ch's status. ch may be a re-read
// copy (see statuswrite.Write): generation and everything else come from s.
func (s *channelScope) apply(ch *commercev1alpha1.WhatsAppChannel) {
	ch.Status.ObservedGeneration = s.generation
	ch.Status.WebhookPath = s.webhookPath
	setConditions(&ch.Status.Conditions, s.generation, s.conditions)
}

func (r *WhatsAppChannelReconciler) recordReady(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, ready metav1.Condition) {
	eventType := corev1.EventTypeNormal
	if ready.Status != metav1.ConditionTrue {
		eventType = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(ch, nil, eventType, ready.Reason, "CheckSecret", "%s", ready.Message)
	logf.FromContext(ctx).Info("channel readiness changed", "ready", ready.Status, "reason", ready.Reason)
}

// webhookPath is the path the channel is to publish. While the Secret is
// unreadable, or lacks a key other than the token, the path stays the one the
// token gives (or the old one), so deliveries get a 503 and are retried by Meta
// instead of a 404.
func webhookPath(ch *commercev1alpha1.WhatsAppChannel, token []byte, secretErr *channelsecret.Error) string {
	if secretErr == nil || secretErr.Reason == commercev1alpha1.ReasonMissingSecretKey && len(token) > 0 {
		return commercev1alpha1.WebhookPath(token, ch.Namespace, ch.Name)
	}
	return ch.Status.WebhookPath
}

// channelConditions are Ready (first), Signed once the Secret is usable, and
// the kstatus conditions of a channel. Reconciling is there while the Secret
// cannot be read right now; Stalled while the Secret, the apiURL or a
// notification text needs a person's fix. No message names the webhook path:
// for an unsigned channel it is the only credential, and conditions and
// Events are readable by many more people than the Secret.
func channelConditions(ch *commercev1alpha1.WhatsAppChannel, secretErr *channelsecret.Error, signed bool, allowed whatsapp.AllowedURLs) []metav1.Condition {
	ready := metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: commercev1alpha1.ReasonChannelReady,
		Message: fmt.Sprintf("Receiving %s API webhooks at the path in status.webhookPath (kubectl whatsapp webhook-url %s)", ch.API(), ch.Name)}
	if secretErr != nil {
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, secretErr.Reason, secretErr.Message
		if secretErr.Transient {
			return []metav1.Condition{ready, kstatus(commercev1alpha1.ConditionReconciling, ready.Reason, ready.Message)}
		}
		return []metav1.Condition{ready, kstatus(commercev1alpha1.ConditionStalled, ready.Reason, ready.Message)}
	}
	conds := []metav1.Condition{ready, signedCondition(ch, signed)}
	if base := whatsapp.BaseURL(whatsapp.Generation(ch.API()), ch.Spec.APIURL); !allowed.Allows(base) {
		conds[0].Status, conds[0].Reason, conds[0].Message = metav1.ConditionFalse, commercev1alpha1.ReasonAPIURLNotAllowed, apiURLNotAllowed(base, allowed)
	} else if err := notification.Validate(ch.Spec.Notifications); err != nil {
		conds[0].Status, conds[0].Reason, conds[0].Message = metav1.ConditionFalse, commercev1alpha1.ReasonInvalidNotifications, err.Error()
	}
	if conds[0].Status == metav1.ConditionFalse {
		conds = append(conds, kstatus(commercev1alpha1.ConditionStalled, conds[0].Reason, conds[0].Message))
	}
	return conds
}

// apiURLNotAllowed says why nothing is sent to base.
func apiURLNotAllowed(base string, allowed whatsapp.AllowedURLs) string {
	return fmt.Sprintf("apiURL %q is not under any URL the operator allows (--allowed-api-urls %s): nothing is sent to it", base, allowed)
}

// signedCondition says whether the receiver requires signatures of ch's
// webhook requests, given whether its Secret has an appSecret.
func signedCondition(ch *commercev1alpha1.WhatsAppChannel, signed bool) metav1.Condition {
	if signed {
		return metav1.Condition{Type: commercev1alpha1.ConditionSigned, Status: metav1.ConditionTrue, Reason: commercev1alpha1.ReasonSigned,
			Message: "webhook requests without a valid X-Hub-Signature-256 are refused"}
	}
	return metav1.Condition{Type: commercev1alpha1.ConditionSigned, Status: metav1.ConditionFalse, Reason: commercev1alpha1.ReasonUnsigned,
		Message: fmt.Sprintf("Secret %q has no %q: webhook requests to this %s channel are not signed, and its webhook path is their only credential",
			ch.Spec.SecretRef.Name, commercev1alpha1.SecretKeyAppSecret, ch.API())}
}

// channelEvent is one Kubernetes event to record about a channel.
type channelEvent struct{ eventType, reason, message string }

// signedEvent is the event of Signed changing from before to now (either nil
// when absent): a Warning whenever the channel becomes unsigned, so that
// removing appSecret is never a silent downgrade, and a Normal event when it
// is signed again.
func signedEvent(before, now *metav1.Condition, secret string) (channelEvent, bool) {
	switch {
	case now == nil || before != nil && before.Status == now.Status:
		return channelEvent{}, false
	case now.Status == metav1.ConditionFalse && before != nil:
		return channelEvent{corev1.EventTypeWarning, commercev1alpha1.ReasonUnsigned, fmt.Sprintf("%q was removed from Secret %q: webhook requests to this channel are no longer signature-checked, and its webhook path is now their only credential",
			commercev1alpha1.SecretKeyAppSecret, secret)}, true
	case now.Status == metav1.ConditionFalse:
		return channelEvent{corev1.EventTypeWarning, commercev1alpha1.ReasonUnsigned, now.Message}, true
	case before != nil:
		return channelEvent{corev1.EventTypeNormal, commercev1alpha1.ReasonSigned, now.Message}, true
	}
	return channelEvent{}, false
}

// SetupWithManager registers the reconciler. Its own status writes start no
// reconcile; the Secret is re-read every SecretResyncPeriod.
func (r *WhatsAppChannelReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&commercev1alpha1.WhatsAppChannel{}, builder.WithPredicates(specOrAnnotationsChanged)).
		Named("whatsappchannel").
		Complete(r)
}
