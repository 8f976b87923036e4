package main

import (
	"math"
	"slices"
	"testing"
	"time"
)

// The load's requests are priced by kind: status writes at the mean of the
// replays that count as one, the order's create at one direct create, and
// reads and watches not at all; what no replay priced is named, not guessed.
func TestTheLoadIsPricedByTheReplays(t *testing.T) {
	cpu := func(d time.Duration) partCPU {
		return partCPU{ok: true, children: map[string]time.Duration{apiServerCommand: d}}
	}
	prices := []price{
		{replay: replay{request: "whatsapporders/status PUT"}, n: 10, cpu: cpu(40 * time.Millisecond)},
		{replay: replay{request: "whatsapporders/status PUT"}, n: 10, cpu: cpu(60 * time.Millisecond)},
		{replay: replay{request: "whatsapporders PATCH"}, n: 10, cpu: cpu(50 * time.Millisecond)},
		{replay: replay{request: "events POST"}, n: 10, cpu: cpu(10 * time.Millisecond)},
	}
	reqs := apiRequests{
		{verb: "POST", resource: "whatsapporders"}:                       100,
		{verb: "PUT", resource: "whatsapporders/status"}:                 300,
		{verb: "PUT", resource: "whatsapporders/status", conflict: true}: 100,
		{verb: "PATCH", resource: "whatsapporders"}:                      100,
		{verb: "POST", resource: "events"}:                               100,
		{verb: "GET", resource: "secrets"}:                               100,
		{verb: "WATCH", resource: "whatsapporders"}:                      3,
		{verb: "PUT", resource: "leases"}:                                50,
	}
	creates, unpriced := pricedLoad(reqs, 100, prices, 2*time.Millisecond)
	// 1 create + 4 status writes at 2.5 + 1 patch at 2.5 + 1 Event at 0.5
	if want := 1 + 4*2.5 + 2.5 + 0.5; math.Abs(creates-want) > 1e-9 {
		t.Errorf("priced at %.2f direct creates, want %.2f", creates, want)
	}
	if want := []string{"leases PUT 0.50"}; !slices.Equal(unpriced, want) {
		t.Errorf("unpriced %v, want %v", unpriced, want)
	}
}
