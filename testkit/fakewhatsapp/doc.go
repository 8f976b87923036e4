// Package fakewhatsapp is a stand-in for the WhatsApp Business API that runs
// as a real HTTP server, so tests and local demos exercise the operator's
// actual HTTP client: it accepts sends in both generations, records them,
// checks product messages as WhatsApp does, fails on request in each way the
// client classifies, posts status webhooks back to the operator's receiver
// (echoing each send's callback data and reporting its pricing category, as
// WhatsApp does), and plays the customer who orders from a product message or
// asks about it.
//
// The API paths it serves:
//
//	POST /{phone-number-id}/messages        Cloud
//	POST /v23.0/{phone-number-id}/messages  Cloud, with any vNN.N version prefix
//	POST /v1/messages                       On-Premises
//
// The record of sends, failure injection and status posting are also reachable
// over HTTP under /_fake/, so a shell user can drive a running fake with curl:
//
//	GET  /_fake/sent                              accepted sends as a JSON array
//	POST /_fake/fail?mode=window-closed&count=2   fail the next 2 sends
//	POST /_fake/fail?mode=server-error&count=all  fail every send until reset
//	POST /_fake/fail-delivery?code=131026&count=1 accept the next send, then
//	                                              post one failed status with code
//	                                              (131047 by default) instead of
//	                                              sent, delivered, read
//	POST /_fake/reset                             forget sends and failures
//	POST /_fake/statuses?id=ID&statuses=sent,read&shuffle=true
//	                                              post status webhooks about an
//	                                              accepted send to Options.WebhookURL
//	POST /_fake/catalogs?id=CATALOG&products=SKU1,SKU2
//	                                              know this catalog: product messages naming
//	                                              other ids are refused with 131009
//	POST /_fake/reply?id=ID&order=SKU:2:7.99:USD,SKU2:1:25:USD&text=NOTE
//	POST /_fake/reply?id=ID&inquiry=SKU&text=QUESTION
//	                                              play the customer: answer the product message
//	                                              ID (without id: the latest one) with an order or
//	                                              an inquiry, a signed webhook whose context.id is
//	                                              that message's id, to Options.WebhookURL
//	POST /_fake/pay?reference=REF&payer=fail-then-pay
//	                                              play the customer who received the bill REF
//	                                              (without reference: the latest one): payer is
//	                                              pay (pending, captured), fail (failed) or
//	                                              fail-then-pay (failed, pending, captured)
//
// Modes are window-closed, rate-limited, server-error and permanent; count
// defaults to 1. statuses defaults to sent,delivered,read. The id must be
// query-escaped, since Cloud ids contain "+", "/" and "=". The admin API has no
// authentication, which is why the fake listens on loopback by default.
//
// With Options.SentBeforeAnswer the fake posts each accepted send's first
// status ("sent", or "failed" after FailDeliveryNext) before answering the
// send, as WhatsApp may, and posts it again while the receiver refuses it;
// EarlyStatuses tells what the receiver answered.
package fakewhatsapp
