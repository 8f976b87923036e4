package webhookreceiver

import (
	"context"
	"testing"
	"time"
)

// A flood of large bodies fills the budget, and is refused beyond it, while
// small bodies still get in; what is released can be reserved again.
func TestBodyBudget(t *testing.T) {
	const large = 3 << 20
	b := newBodyBudget(smallReserve + 2*large)
	var releases []func()
	for i := range 2 {
		release, ok := b.reserve("ns"+string(rune('a'+i)), large)
		if !ok {
			t.Fatalf("large body %d refused within the budget", i)
		}
		releases = append(releases, release)
	}
	if _, ok := b.reserve("nsc", large); ok {
		t.Fatal("a third large body was let in beyond the budget")
	}
	small, ok := b.reserve("nsc", smallBody)
	if !ok {
		t.Fatal("a small body was refused while large ones filled their share")
	}
	small()
	releases[0]()
	if release, ok := b.reserve("nsc", large); !ok {
		t.Fatal("a large body was refused after another one was released")
	} else {
		release()
	}
	releases[1]()
}

// One namespace holds at most its share of the budget, however its bodies
// are sized: the others keep the rest, and get in.
func TestBodyBudgetShareOfANamespace(t *testing.T) {
	b := newBodyBudget(DefaultBodyBudget)
	share := tenantShare(DefaultBodyBudget)
	if share != DefaultBodyBudget/tenantShares || share < MaxBodyBytes {
		t.Fatalf("share %d of %d; want a quarter, and at least one largest body (%d)", share, DefaultBodyBudget, MaxBodyBytes)
	}
	for _, size := range []int64{MaxBodyBytes, smallBody, 1 << 10} {
		var held int64
		var releases []func()
		for {
			release, ok := b.reserve("hostile", size)
			if !ok {
				break
			}
			held += size
			releases = append(releases, release)
		}
		if held > share || held+size <= share {
			t.Errorf("bodies of %d bytes: one namespace got %d bytes in, want its share of %d", size, held, share)
		}
		for _, other := range []struct {
			namespace string
			size      int64
		}{{"other", MaxBodyBytes}, {"third", MaxBodyBytes}, {"fourth", smallBody}} {
			release, ok := b.reserve(other.namespace, other.size)
			if !ok {
				t.Fatalf("bodies of %d bytes: a body of %d bytes for %s refused while one namespace held its share", size, other.size, other.namespace)
			}
			releases = append(releases, release)
		}
		for _, release := range releases {
			release()
		}
	}
	if n := len(b.tenants.m); n != 0 {
		t.Errorf("%d namespaces still tracked after every body was released", n)
	}
}

// One namespace's bodies take at most its share of the stores; another's
// still enter at once.
func TestAdmissionShareOfANamespace(t *testing.T) {
	a := newAdmission(DefaultMaxStores, time.Millisecond)
	var leaves []func()
	for {
		leave, ok := a.enter(context.Background(), "hostile")
		if !ok {
			break
		}
		leaves = append(leaves, leave)
	}
	if want := DefaultMaxStores / tenantShares; len(leaves) != want {
		t.Errorf("one namespace entered %d stores, want %d", len(leaves), want)
	}
	leave, ok := a.enter(context.Background(), "other")
	if !ok {
		t.Fatal("another namespace found no store while the first held its share")
	}
	leave()
	for _, leave := range leaves {
		leave()
	}
	if n := len(a.tenants.m); n != 0 {
		t.Errorf("%d namespaces still tracked after every store left", n)
	}
}
