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
}

// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsappchannels,verbs=get;list;watch
// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsappchannels/status,verbs=get;update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile runs one pass over a channel, in these phases:
//
//	read        the channel, the generation read, its Secret (channelScope)
//	webhook     the webhook path derived from the Secret's token
//	conditions  Ready, Reconciling and Stalled follow from the Secret and the notification texts
//	write       one status write, then the event of a readiness change
func (r *WhatsAppChannelReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	s, err := r.read(ctx, req)
	if s == nil || err != nil {
		return ctrl.Result{}, err
	}
	s.webhookPath = webhookPath(s.channel, s.token, s.secretErr)
	s.conditions = channelConditions(s.channel, s.webhookPath, s.secretErr)
	before := meta.FindStatusCondition(s.channel.Status.Conditions, commercev1alpha1.ConditionReady).DeepCopy()
	written, err := statuswrite.Write(ctx, r.Client, r.APIReader, s.channel, s.apply)
	if err != nil {
		return ctrl.Result{}, err
	}
	if ready := s.conditions[0]; written && (before == nil || before.Status != ready.Status || before.Reason != ready.Reason) {
		r.recordReady(ctx, s.channel, ready)
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
	vals, err := channelsecret.Load(ctx, r.APIReader, &ch)
	s := &channelScope{channel: &ch, generation: ch.Generation, token: vals.WebhookToken}
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
		return channelsecret.WebhookPath(token, ch.Namespace, ch.Name)
	}
	return ch.Status.WebhookPath
}

// channelConditions are Ready (first) and the kstatus conditions of a channel.
// Reconciling is there while the Secret cannot be read right now; Stalled while
// the Secret or a notification text needs a person's fix.
func channelConditions(ch *commercev1alpha1.WhatsAppChannel, path string, secretErr *channelsecret.Error) []metav1.Condition {
	ready := metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: commercev1alpha1.ReasonChannelReady,
		Message: fmt.Sprintf("Receiving %s API webhooks at %s", ch.API(), path)}
	if secretErr != nil {
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, secretErr.Reason, secretErr.Message
		if secretErr.Transient {
			return []metav1.Condition{ready, kstatus(commercev1alpha1.ConditionReconciling, ready.Reason, ready.Message)}
		}
		return []metav1.Condition{ready, kstatus(commercev1alpha1.ConditionStalled, ready.Reason, ready.Message)}
	}
	if err := notification.Validate(ch.Spec.Notifications); err != nil {
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, commercev1alpha1.ReasonInvalidNotifications, err.Error()
		return []metav1.Condition{ready, kstatus(commercev1alpha1.ConditionStalled, ready.Reason, ready.Message)}
	}
	return []metav1.Condition{ready}
}

// SetupWithManager registers the reconciler. Its own status writes start no
// reconcile; the Secret is re-read every SecretResyncPeriod.
func (r *WhatsAppChannelReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&commercev1alpha1.WhatsAppChannel{}, builder.WithPredicates(specOrAnnotationsChanged)).
		Named("whatsappchannel").
		Complete(r)
}
