// Package channelsecret reads the Secret a WhatsAppChannel references, checks it
// has the keys the channel's API generation needs.
//
// Secrets are read with `get` by name only: the operator never lists or watches
// Secrets, so it cannot see any Secret a channel does not name.
package channelsecret

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// Values are the secrets of one channel. They must never reach a log, an event
// or a status: String and GoString redact them.
type Values struct {
	WebhookToken []byte
	AppSecret    []byte
	VerifyToken  []byte
	AccessToken  []byte
}

// String redacts the values so they cannot leak through logging.
func (Values) String() string { return "channelsecret.Values{redacted}" }

// GoString redacts the values for %#v too.
func (v Values) GoString() string { return v.String() }

// Error says why a channel's Secret is not usable. Transient is true when the
// cause is the API server rather than the Secret's content.
type Error struct {
	// Reason is one of commercev1alpha1's Secret reasons (ReasonSecretNotFound, ...).
	Reason    string
	Message   string
	Transient bool
}

func (e *Error) Error() string { return e.Message }

// Load gets the channel's Secret and checks that the keys its API generation
// requires are present (Read, then Check): either the Values or an error, an
// *Error telling the condition reason, never both.
func Load(ctx context.Context, reader client.Reader, ch *commercev1alpha1.WhatsAppChannel) (Values, error) {
	vals, err := Read(ctx, reader, ch)
	if err == nil {
		err = vals.Check(ch)
	}
	if err != nil {
		return Values{}, err
	}
	return vals, nil
}

// Read gets the channel's Secret, without checking its keys: the channel's
// reconciler publishes the path of a token whose Secret lacks another key.
// An *Error says why the Secret could not be read.
func Read(ctx context.Context, reader client.Reader, ch *commercev1alpha1.WhatsAppChannel) (Values, error) {
	var secret corev1.Secret
	key := client.ObjectKey{Namespace: ch.Namespace, Name: ch.Spec.SecretRef.Name}
	if err := reader.Get(ctx, key, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return Values{}, &Error{Reason: commercev1alpha1.ReasonSecretNotFound, Message: fmt.Sprintf("Secret %q not found in namespace %q", key.Name, key.Namespace)}
		}
		return Values{}, &Error{Reason: commercev1alpha1.ReasonSecretUnreadable, Message: fmt.Sprintf("reading Secret %q: %v", key.Name, err), Transient: true}
	}
	return Values{
		WebhookToken: secret.Data[commercev1alpha1.SecretKeyWebhookToken],
		AppSecret:    secret.Data[commercev1alpha1.SecretKeyAppSecret],
		VerifyToken:  secret.Data[commercev1alpha1.SecretKeyVerifyToken],
		AccessToken:  secret.Data[commercev1alpha1.SecretKeyAccessToken],
	}, nil
}

// Check returns an *Error when v lacks a key ch's API generation requires.
func (v Values) Check(ch *commercev1alpha1.WhatsAppChannel) error {
	secret := ch.Spec.SecretRef.Name
	if len(v.WebhookToken) == 0 {
		return missing(secret, commercev1alpha1.SecretKeyWebhookToken, "the webhook path is derived from it")
	}
	// A short token would make the webhook path guessable again.
	if len(v.WebhookToken) < 16 {
		return &Error{Reason: commercev1alpha1.ReasonSecretKeyNotValid, Message: fmt.Sprintf("key %q of Secret %q is shorter than 16 bytes; use a long random value (openssl rand -hex 32)", commercev1alpha1.SecretKeyWebhookToken, secret)}
	}
	if ch.API() == commercev1alpha1.APICloud && len(v.AppSecret) == 0 {
		return missing(secret, commercev1alpha1.SecretKeyAppSecret, "Cloud API webhooks are signed with it")
	}
	return nil
}

func missing(secret, key, why string) error {
	return &Error{Reason: commercev1alpha1.ReasonMissingSecretKey, Message: fmt.Sprintf("Secret %q has no key %q (%s)", secret, key, why)}
}
