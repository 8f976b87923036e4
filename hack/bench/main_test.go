package main

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/hubsignature"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// The direct baseline is fair only if it creates what the receiver creates
// from the webhook: the receiver's parser must read each body back into the
// direct object's spec.
func TestWebhookBodyCarriesTheDirectOrder(t *testing.T) {
	specs := orderSpecs(sourceReceiver, 1, 3)
	bodies := signedBodies(specs)
	for i, spec := range specs {
		if err := hubsignature.Verify([]byte(appSecret), bodies[i].Body, bodies[i].Signature); err != nil {
			t.Errorf("body %d: signature: %v", i, err)
		}
		d, err := payload.Parse(bodies[i].Body, payload.Cloud)
		if err != nil {
			t.Fatalf("body %d: %v", i, err)
		}
		if len(d.Elements) != 1 || d.Elements[0].Kind != payload.KindOrder {
			t.Fatalf("body %d: elements %+v, want one order", i, d.Elements)
		}
		el := d.Elements[0]
		if el.PhoneNumberID != phoneNumberID {
			t.Errorf("body %d: phone number id %q, want the channel's %q", i, el.PhoneNumberID, phoneNumberID)
		}
		o := el.Order
		got := commercev1alpha1.WhatsAppOrderSpec{
			Channel: channelName, MessageID: o.MessageID, CatalogID: o.CatalogID, Text: o.Text, State: commercev1alpha1.OrderPending,
			Customer: commercev1alpha1.Customer{WaID: o.Customer.WaID, UserID: o.Customer.UserID, Name: o.Customer.Name},
		}
		got.ReceivedAt.Time = o.Timestamp
		for _, it := range o.Items {
			got.Items = append(got.Items, commercev1alpha1.OrderItem{ProductRetailerID: it.ProductRetailerID, Quantity: it.Quantity, ItemPrice: it.ItemPrice, Currency: it.Currency})
		}
		if !equality.Semantic.DeepEqual(got, spec) {
			t.Errorf("body %d carries\n%+v\nwant the direct spec\n%+v", i, got, spec)
		}
		obj := orderObject("ns", spec)
		if want := commercev1alpha1.ResourceName(channelName, spec.MessageID); obj.Name != want {
			t.Errorf("direct object named %q, the receiver names it %q", obj.Name, want)
		}
		if obj.Labels[commercev1alpha1.LabelChannel] != channelName || obj.Labels[commercev1alpha1.LabelCustomer] != spec.Customer.WaID {
			t.Errorf("direct object labels %v", obj.Labels)
		}
	}
}

func TestOrdersOfEveryPhaseAreDistinct(t *testing.T) {
	ids := map[string]bool{}
	customers := map[string]bool{}
	for _, source := range []string{sourceDirect, sourceReceiver, sourceArchived} {
		for round := range 3 {
			waID := customerWaID(source, round)
			if customers[waID] {
				t.Errorf("customer %s used by two phases", waID)
			}
			customers[waID] = true
			if errs := validation.IsValidLabelValue(waID); len(errs) > 0 {
				t.Errorf("customer %s is not a label value: %v", waID, errs)
			}
			for _, spec := range orderSpecs(source, round, 50) {
				if ids[spec.MessageID] {
					t.Fatalf("message id %s used twice", spec.MessageID)
				}
				ids[spec.MessageID] = true
			}
		}
	}
}

func TestRunPhaseDoesEachOperationOnce(t *testing.T) {
	const n = 100
	var calls [n]atomic.Int32
	do := func(_ context.Context, i int) error {
		calls[i].Add(1)
		if i%10 == 0 {
			return errors.New("refused")
		}
		return nil
	}
	var last int
	res := runPhase(context.Background(), n, 7, do, func(done int) { last = done })
	for i := range calls {
		if c := calls[i].Load(); c != 1 {
			t.Errorf("operation %d done %d times", i, c)
		}
	}
	if len(res.latencies) != 90 || res.failures != 10 || len(res.errors) != keptErrors || last != n {
		t.Errorf("got %d successes, %d failures, %d errors kept, last progress %d", len(res.latencies), res.failures, len(res.errors), last)
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 50}, {99, 99}, {100, 100}, {0, 1}} {
		if got := percentile(d, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %v", got)
	}
}

func TestSameMessages(t *testing.T) {
	for _, tc := range []struct {
		name      string
		want, got []string
		ok        bool
	}{
		{"exact", []string{"a", "b"}, []string{"b", "a"}, true},
		{"missing", []string{"a", "b"}, []string{"a"}, false},
		{"duplicate", []string{"a", "b"}, []string{"a", "b", "b"}, false},
		{"extra", []string{"a"}, []string{"a", "c"}, false},
	} {
		if err := sameMessages(tc.want, tc.got); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestPhaseOrderAlternates(t *testing.T) {
	if got := phaseOrder(1)[0]; got != sourceDirect {
		t.Errorf("round 1 starts with %s", got)
	}
	if got := phaseOrder(2)[0]; got != sourceReceiver {
		t.Errorf("round 2 starts with %s", got)
	}
}

func TestAggregateIsTotalObjectsOverTotalTime(t *testing.T) {
	phase := func(n int, elapsed time.Duration) phaseResult {
		return phaseResult{elapsed: elapsed, latencies: make([]time.Duration, n)}
	}
	rounds := []round{
		{label: "1", direct: phase(100, time.Second), receiver: phase(100, 2*time.Second)},
		{label: "2", direct: phase(100, 3*time.Second), receiver: phase(100, 2*time.Second)},
	}
	all := aggregate(rounds)
	if all.direct.rate() != 50 || all.receiver.rate() != 50 || all.ratio() != 1 {
		t.Errorf("aggregate rates %v and %v, ratio %v; want 50, 50, 1", all.direct.rate(), all.receiver.rate(), all.ratio())
	}
	var out strings.Builder
	if err := writeTable(&out, rounds); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 4 || !strings.Contains(lines[3], "all") {
		t.Errorf("table:\n%s", out.String())
	}
}

func TestParseFlags(t *testing.T) {
	p, err := parseFlags(nil, io.Discard)
	if err != nil || p.n != 2000 || p.concurrency != 16 || p.rounds != 3 || p.warmup != 100 || !slices.Equal(p.live, []int{10000, 30000}) {
		t.Errorf("defaults %+v, %v", p, err)
	}
	if p, err := parseFlags([]string{"-live", ""}, io.Discard); err != nil || len(p.live) != 0 {
		t.Errorf("-live \"\" = %v, %v; want no memory phase", p.live, err)
	}
	for _, args := range [][]string{{"-c", "0"}, {"-n", "-1"}, {"-warmup", "-1"}, {"extra"}, {"-live", "30000,10000"}, {"-live", "x"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

func TestProcStat(t *testing.T) {
	ppid, cpu, err := processCPU("4242 (kube (api) server) S 17 4242 17 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 12 0 1 2 3\n")
	if err != nil || ppid != 17 || cpu != 2*time.Second {
		t.Errorf("processCPU = %d, %v, %v; want 17, 2s", ppid, cpu, err)
	}
	busy, err := machineCPU("cpu  100 5 50 1000 7 3 2 1 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n")
	if err != nil || busy != 1610*time.Millisecond {
		t.Errorf("machineCPU = %v, %v; want 1.61s", busy, err)
	}
}
