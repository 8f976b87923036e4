// Package controllers holds the operator's four reconcilers: WhatsAppChannel
// (the Secret, the webhook path, readiness), WhatsAppOrder (the cart, the
// business's decision, the customer's notifications), ProductInquiry (the
// 24-hour window, the reply) and ProductMessage (the send, its template
// outside the window, and the funnel of inquiries, orders and revenue).
//
// All four take one form, the one Cluster API's cluster controller and Flux's
// source-controller use. Reconcile reads into a scope value (the object, the
// generation read, the channel, now), runs ordered phases that each decide the
// status fields they own, writes the status once through statuswrite.Write, and
// emits events from the difference between the status read and the status
// written. The decisions (which notification is due, which message to send,
// which conditions follow, when retention ends) are pure functions of values,
// table-tested without a client; the envtest scenarios prove the whole.
//
// Triggers: each resource's own spec and annotation changes (status updates,
// the receiver's delivery statuses above all, start no reconcile), its requeues,
// and for orders, inquiries and product messages their channel turning Ready;
// a product message also wakes on the orders and inquiries replying to it,
// found through cache indexes, and an inquiry on a product message answering it
// being sent.
package controllers
