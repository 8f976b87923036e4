package webhookreceiver

import "testing"

// A flood of large bodies fills the budget, and is refused beyond it, while
// small bodies still get in; what is released can be reserved again.
func TestBodyBudget(t *testing.T) {
	const large = 3 << 20
	b := newBodyBudget(smallReserve + 2*large)
	var releases []func()
	for i := range 2 {
		release, ok := b.reserve(large)
		if !ok {
			t.Fatalf("large body %d refused within the budget", i)
		}
		releases = append(releases, release)
	}
	if _, ok := b.reserve(large); ok {
		t.Fatal("a third large body was let in beyond the budget")
	}
	small, ok := b.reserve(smallBody)
	if !ok {
		t.Fatal("a small body was refused while large ones filled their share")
	}
	small()
	releases[0]()
	if release, ok := b.reserve(large); !ok {
		t.Fatal("a large body was refused after another one was released")
	} else {
		release()
	}
	releases[1]()
}
