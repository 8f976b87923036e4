package controllers

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// asCondition is o as the condition of type conditionType it becomes; nil
// for no outcome.
func asCondition(o *outcome, conditionType string) *metav1.Condition {
	if o == nil {
		return nil
	}
	c := o.condition(conditionType)
	return &c
}

// What each outcome means on every kind: the outcome condition, Ready, the
// kstatus condition and the Event a user sees.
func TestOutcomeTable(t *testing.T) {
	const (
		ready       = "Ready"
		reconciling = commercev1alpha1.ConditionReconciling
		stalledC    = commercev1alpha1.ConditionStalled
		normal      = corev1.EventTypeNormal
		warning     = corev1.EventTypeWarning
	)
	for _, tc := range []struct {
		of         sendOutcome
		wantStatus metav1.ConditionStatus
		wantReason string
		// wantState is Ready alone ("Ready"), or the kstatus condition present.
		wantState string
		wantEvent string
	}{
		{commercev1alpha1.ReasonSent, metav1.ConditionTrue, commercev1alpha1.ReasonSent, ready, normal},
		{commercev1alpha1.ReasonTracked, metav1.ConditionTrue, commercev1alpha1.ReasonTracked, ready, normal},
		{commercev1alpha1.ReasonAnsweredWithProducts, metav1.ConditionTrue, commercev1alpha1.ReasonAnsweredWithProducts, ready, normal},
		{commercev1alpha1.ReasonAwaitingReply, metav1.ConditionFalse, commercev1alpha1.ReasonAwaitingReply, ready, normal},
		{commercev1alpha1.ReasonNothingToSend, metav1.ConditionFalse, commercev1alpha1.ReasonNothingToSend, ready, ""},
		{commercev1alpha1.ReasonInvalidCart, metav1.ConditionFalse, commercev1alpha1.ReasonInvalidCart, ready, ""},
		{outcomeExpiredUnanswered, metav1.ConditionFalse, commercev1alpha1.ReasonWindowClosed, ready, warning},
		{commercev1alpha1.ReasonRetrying, metav1.ConditionFalse, commercev1alpha1.ReasonRetrying, reconciling, warning},
		{commercev1alpha1.ReasonChannelNotReady, metav1.ConditionFalse, commercev1alpha1.ReasonChannelNotReady, reconciling, warning},
		{commercev1alpha1.ReasonAwaitingStatus, metav1.ConditionFalse, commercev1alpha1.ReasonAwaitingStatus, reconciling, warning},
		{commercev1alpha1.ReasonInquiryNotFound, metav1.ConditionFalse, commercev1alpha1.ReasonInquiryNotFound, reconciling, warning},
		{commercev1alpha1.ReasonWindowClosed, metav1.ConditionFalse, commercev1alpha1.ReasonWindowClosed, stalledC, warning},
		{commercev1alpha1.ReasonSendFailed, metav1.ConditionFalse, commercev1alpha1.ReasonSendFailed, stalledC, warning},
		{commercev1alpha1.ReasonDeliveryFailed, metav1.ConditionFalse, commercev1alpha1.ReasonDeliveryFailed, stalledC, warning},
		{commercev1alpha1.ReasonNotSupportedByAPI, metav1.ConditionFalse, commercev1alpha1.ReasonNotSupportedByAPI, stalledC, warning},
		{commercev1alpha1.ReasonInquiryOnOtherChannel, metav1.ConditionFalse, commercev1alpha1.ReasonInquiryOnOtherChannel, stalledC, warning},
		// An outcome nobody wrote a row for is never taken for a success.
		{"SomethingNew", metav1.ConditionFalse, "SomethingNew", reconciling, warning},
	} {
		t.Run(string(tc.of), func(t *testing.T) {
			o := &outcome{of: tc.of, message: "why"}
			c := o.condition(commercev1alpha1.ConditionSent)
			if c.Type != commercev1alpha1.ConditionSent || c.Status != tc.wantStatus || c.Reason != tc.wantReason || c.Message != "why" {
				t.Errorf("condition %+v, want %s %s", c, tc.wantStatus, tc.wantReason)
			}
			if e := o.row().event; e != tc.wantEvent {
				t.Errorf("event %q, want %q", e, tc.wantEvent)
			}
			conds := readiness("Pending", "sending", o, nil)
			r := meta.FindStatusCondition(conds, commercev1alpha1.ConditionReady)
			switch tc.wantState {
			case ready:
				if len(conds) != 1 || r.Status != metav1.ConditionTrue {
					t.Errorf("conditions %+v, want Ready alone", conds)
				}
			case reconciling:
				if len(conds) != 2 || r.Status != metav1.ConditionFalse || r.Message != "sending: why" || !meta.IsStatusConditionTrue(conds, reconciling) {
					t.Errorf("conditions %+v, want Ready False and Reconciling", conds)
				}
			case stalledC:
				if len(conds) != 2 || r.Status != metav1.ConditionTrue || !meta.IsStatusConditionTrue(conds, stalledC) {
					t.Errorf("conditions %+v, want Ready and Stalled", conds)
				}
			}
		})
	}
}

// Every outcome a send can end in has its row.
func TestEverySendOutcomeHasARow(t *testing.T) {
	for _, reason := range []string{commercev1alpha1.ReasonSent, commercev1alpha1.ReasonRetrying, commercev1alpha1.ReasonChannelNotReady,
		commercev1alpha1.ReasonWindowClosed, commercev1alpha1.ReasonSendFailed, commercev1alpha1.ReasonDeliveryFailed, commercev1alpha1.ReasonAwaitingStatus} {
		if _, ok := outcomeTable[sendOutcome(reason)]; !ok {
			t.Errorf("no row for %s", reason)
		}
	}
}

// Something blocking the resource (an invalid cart) outranks any outcome.
func TestReadinessBlocked(t *testing.T) {
	blocked := &metav1.Condition{Type: commercev1alpha1.ConditionValidated, Status: metav1.ConditionFalse, Reason: commercev1alpha1.ReasonUnknownCurrency, Message: "XYZ"}
	conds := readiness("Invalid", "notifying the customer", outcomeFor(commercev1alpha1.ReasonRetrying, "x"), blocked)
	r := meta.FindStatusCondition(conds, commercev1alpha1.ConditionReady)
	s := meta.FindStatusCondition(conds, commercev1alpha1.ConditionStalled)
	if r.Status != metav1.ConditionFalse || r.Message != "XYZ" || s == nil || s.Reason != commercev1alpha1.ReasonUnknownCurrency ||
		meta.FindStatusCondition(conds, commercev1alpha1.ConditionReconciling) != nil {
		t.Errorf("conditions %+v, want Ready False and Stalled from what blocks it", conds)
	}
}

// A send that will be retried hands WhatsApp's error to the workqueue as it
// came, class and code kept.
func TestAfterSendKeepsWhatsAppsError(t *testing.T) {
	apiErr := &whatsapp.Error{Class: whatsapp.Transient, Code: 131000, HTTPStatus: 500, Message: "Something went wrong"}
	p := &pass[*commercev1alpha1.WhatsAppOrder]{}
	p.afterSend(sendResult{Reason: commercev1alpha1.ReasonRetrying, Message: apiErr.Error(), Err: apiErr}, "sending")
	got, ok := errors.AsType[*whatsapp.Error](p.err)
	if !ok || got.Code != 131000 || got.Class != whatsapp.Transient {
		t.Fatalf("error %v, want WhatsApp's, code 131000, class Transient", p.err)
	}
}
