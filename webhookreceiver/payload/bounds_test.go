package payload

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// bodyOf is a body of n copies of member, comma separated, between prefix and
// suffix.
func bodyOf(prefix, member, suffix string, n int) []byte {
	var b bytes.Buffer
	b.Grow(len(prefix) + n*(len(member)+1) + len(suffix))
	b.WriteString(prefix)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(member)
	}
	b.WriteString(suffix)
	return b.Bytes()
}

const cloudEntries = `{"object":"whatsapp_business_account","entry":[`

// nullEntries is the example, a Cloud body of n null entries.
func nullEntries(n int) []byte { return bodyOf(cloudEntries, "null", "]}", n) }

// orders is a Cloud body of n orders of 3 items each, one change's messages.
func orders(n int) []byte {
	return bodyOf(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"PN1"},"messages":[`,
		orderMsg(item("1", `"7.99"`, "USD")+","+item("2", `"3"`, "USD")+","+item("1", `"0.5"`, "USD")), "]}}]}]}", n)
}

// fourMiBOfNulls is the exact example: a body of the size limit, of
// null entries, 838,840 of them.
func fourMiBOfNulls() []byte {
	return nullEntries((4<<20 - len(cloudEntries) - len("]}") + 1) / len("null,"))
}

// allocated is the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestParseCostGrowsWithTheBody: four times the elements cost Parse, and
// Locate for every element, about four times the memory (not sixteen), for
// bodies of elements it refuses and of orders it reads.
func TestParseCostGrowsWithTheBody(t *testing.T) {
	for _, tc := range []struct {
		name string
		body func(n int) []byte
		n    int
	}{
		{"null entries", nullEntries, 2000},
		{"strings in statuses", func(n int) []byte { return inOnPremises(`"statuses":[` + strings.Repeat(`"x",`, n-1) + `"x"]`) }, 2000},
		{"orders", orders, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cost := func(n int) uint64 {
				body := tc.body(n)
				format := Cloud
				if body[2] != 'o' {
					format = OnPremises
				}
				return allocated(func() {
					d, err := Parse(body, format)
					if err != nil || len(d.Elements) != n {
						t.Fatalf("Parse = %d elements, %v; want %d", len(d.Elements), err, n)
					}
					paths := make([]string, n)
					for i, e := range d.Elements {
						paths[i] = e.Path
					}
					for i, raw := range Locate(body, paths) {
						if raw == nil {
							t.Fatalf("Locate found nothing at %s", paths[i])
						}
					}
				})
			}
			small, large := cost(tc.n), cost(4*tc.n)
			ratio := float64(large) / float64(small)
			t.Logf("%d elements: %d bytes; %d elements: %d bytes; ratio %.2f", tc.n, small, 4*tc.n, large, ratio)
			if ratio > 5 {
				t.Errorf("four times the elements cost %.1f times the memory, want about 4", ratio)
			}
		})
	}
}

// TestBodyOverTheBoundCostsOnePass: the example, 4 MiB of null
// entries, is refused whole, as over the limit, before anything is decoded:
// what Parse allocates for it is the error, not the 580 MB it once was.
func TestBodyOverTheBoundCostsOnePass(t *testing.T) {
	body := fourMiBOfNulls()
	if len(body) > 4<<20 || len(body) < 4<<20-8 {
		t.Fatalf("the example is %d bytes, want 4 MiB", len(body))
	}
	var err error
	n := allocated(func() { _, err = Parse(body, Cloud) })
	var be *BodyError
	if !errors.As(err, &be) || !be.OverLimit || !strings.Contains(err.Error(), fmt.Sprint(MaxArrayMembers)) {
		t.Fatalf("Parse = %v; want a *BodyError over the limit naming it", err)
	}
	if n > 64<<10 {
		t.Errorf("refusing it allocated %d bytes, want under 64 KiB", n)
	}
	// At the bound exactly, a body is read; one member more, it is refused.
	if _, err := Parse(nullEntries(MaxArrayMembers), Cloud); err != nil {
		t.Errorf("a body of %d members: %v", MaxArrayMembers, err)
	}
	if _, err := Parse(nullEntries(MaxArrayMembers+1), Cloud); !errors.As(err, &be) || !be.OverLimit {
		t.Errorf("a body of %d members: %v, want refused over the limit", MaxArrayMembers+1, err)
	}
	// Members of nested arrays, and arrays in strings, count as JSON has them.
	for _, tc := range []struct {
		json string
		want int
	}{
		{`[]`, 0}, {`[ ]`, 0}, {`[1]`, 1}, {`[[],[[]],{}]`, 4}, {`{"a":[1,"[,,]",{"b":[2,3]}]}`, 5},
		{`["\"],", "\\"]`, 2}, {`{"a":{},"b":[null , true,false]}`, 3},
	} {
		if got := countArrayMembers([]byte(tc.json), 100); got != tc.want {
			t.Errorf("countArrayMembers(%s) = %d, want %d", tc.json, got, tc.want)
		}
	}
}

// BenchmarkParse parses bodies of elements it refuses and of orders, each at
// two sizes, and the 4 MiB of nulls, which it refuses whole:
//
//	go test ./webhookreceiver/payload -run '^$' -bench Parse -benchmem
func BenchmarkParse(b *testing.B) {
	for _, bm := range []struct {
		name string
		body []byte
	}{
		{"null entries 1000", nullEntries(1000)},
		{"null entries 10000", nullEntries(10000)},
		{"orders 100", orders(100)},
		{"orders 1000", orders(1000)},
		{"4 MiB of null entries", fourMiBOfNulls()},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(bm.body)))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Parse(bm.body, Cloud)
			}
		})
	}
}
