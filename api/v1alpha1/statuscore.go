package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// The kinds that message customers keep the status fields every reconcile
// stamps the same way, so one reconcile serves them all.

// StatusCore points at the order's observedGeneration, finishedAt and conditions.
func (o *WhatsAppOrder) StatusCore() (*int64, **metav1.Time, *[]metav1.Condition) {
	return &o.Status.ObservedGeneration, &o.Status.FinishedAt, &o.Status.Conditions
}

// StatusCore points at the inquiry's observedGeneration, finishedAt and conditions.
func (p *ProductInquiry) StatusCore() (*int64, **metav1.Time, *[]metav1.Condition) {
	return &p.Status.ObservedGeneration, &p.Status.FinishedAt, &p.Status.Conditions
}

// StatusCore points at the product message's observedGeneration, finishedAt and conditions.
func (p *ProductMessage) StatusCore() (*int64, **metav1.Time, *[]metav1.Condition) {
	return &p.Status.ObservedGeneration, &p.Status.FinishedAt, &p.Status.Conditions
}
