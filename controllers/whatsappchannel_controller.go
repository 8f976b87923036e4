package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/channelsecret"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/notification"
)

// Ready reasons of a channel besides the Secret's (see channelsecret).
const (
	// ReasonChannelReady: the channel receives webhooks and can send.
	ReasonChannelReady = "ChannelReady"
	// ReasonInvalidNotifications: a configured message text or template parameter does not parse.
	ReasonInvalidNotifications = "InvalidNotifications"
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
	// SecretReader reads Secrets straight from the API server by name.
	SecretReader       client.Reader
	Recorder           events.EventRecorder
	SecretResyncPeriod time.Duration
}

// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsappchannels,verbs=get;list;watch
// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsappchannels/status,verbs=get;update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile sets the channel's webhook path and Ready condition from its Secret.
func (r *WhatsAppChannelReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var ch commercev1alpha1.WhatsAppChannel
	if err := r.Get(ctx, req.NamespacedName, &ch); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}

	vals, loadErr := channelsecret.Load(ctx, r.SecretReader, &ch)
	var secretErr *channelsecret.Error
	if loadErr != nil && !errors.As(loadErr, &secretErr) {
		return ctrl.Result{}, fmt.Errorf("loading the channel's Secret: %w", loadErr)
	}

	status := ch.Status.DeepCopy()
	status.ObservedGeneration = ch.Generation
	// While the Secret is unreadable the old path stays published, so deliveries
	// get a 503 and are retried by Meta instead of a 404.
	if loadErr == nil || secretErr.Reason == channelsecret.ReasonMissingSecretKey && len(vals.WebhookToken) > 0 {
		status.WebhookPath = channelsecret.WebhookPath(vals.WebhookToken, ch.Namespace, ch.Name)
	}
	ready := metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonChannelReady, ObservedGeneration: ch.Generation,
		Message: fmt.Sprintf("Receiving %s API webhooks at %s", ch.API(), status.WebhookPath)}
	if loadErr != nil {
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, secretErr.Reason, secretErr.Message
	} else if err := notification.Validate(ch.Spec.Notifications); err != nil {
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, ReasonInvalidNotifications, err.Error()
	}
	before := meta.FindStatusCondition(ch.Status.Conditions, commercev1alpha1.ConditionReady)
	meta.SetStatusCondition(&status.Conditions, ready)

	if !equality.Semantic.DeepEqual(status, &ch.Status) {
		ch.Status = *status
		if err := r.Status().Update(ctx, &ch); err != nil {
			return ctrl.Result{}, fmt.Errorf("updating channel status: %w", err)
		}
		if before == nil || before.Status != ready.Status || before.Reason != ready.Reason {
			r.recordReady(ctx, &ch, ready)
		}
	}
	if loadErr != nil && secretErr.Transient {
		return ctrl.Result{}, loadErr
	}
	return ctrl.Result{RequeueAfter: r.SecretResyncPeriod}, nil
}

func (r *WhatsAppChannelReconciler) recordReady(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, ready metav1.Condition) {
	eventType := corev1.EventTypeNormal
	if ready.Status != metav1.ConditionTrue {
		eventType = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(ch, nil, eventType, ready.Reason, "CheckSecret", "%s", ready.Message)
	logf.FromContext(ctx).Info("channel readiness changed", "ready", ready.Status, "reason", ready.Reason)
}

// SetupWithManager registers the reconciler.
func (r *WhatsAppChannelReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&commercev1alpha1.WhatsAppChannel{}).
		Named("whatsappchannel").
		Complete(r)
}
