package testenv

import (
	"testing"
	"time"
)

// Consistently checks that cond holds, polling, for the whole of d, failing the
// test the first time it does not. It is how a test says that something does not
// happen (no second message, no extra reconcile) instead of sleeping and looking
// once at the end.
func Consistently(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if !cond() {
			t.Fatalf("%s stopped holding", what)
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
}
