package webhookreceiver

import "golang.org/x/sync/semaphore"

// DefaultBodyBudget is how many bytes of request bodies the receiver holds at once
// unless Options.BodyBudget says otherwise: four of the 3 MiB bodies Meta may send,
// next to the small bodies' reserve. Every body held costs CPU too (reading,
// hashing, parsing) in a container limited to half a core, so a flood is refused
// early rather than slowing the orders down.
const DefaultBodyBudget = 16 << 20

// Bodies up to smallBody bytes (every order, inquiry and status webhook in
// practice) may use smallReserve bytes that larger ones cannot take, so that a
// flood of large bodies does not keep customers' orders out.
const (
	smallBody    = 64 << 10
	smallReserve = 4 << 20
)

// bodyBudget bounds the request bodies held in memory. A request reserves the
// body's declared length (MaxBodyBytes when it declares none) before it is read,
// and gets nothing when there is no room: it is answered 503 at once, rather than
// the heap growing past the container's memory limit.
type bodyBudget struct {
	all, large *semaphore.Weighted
}

func newBodyBudget(total int64) *bodyBudget {
	return &bodyBudget{all: semaphore.NewWeighted(total), large: semaphore.NewWeighted(max(total-smallReserve, 0))}
}

// reserve takes n bytes if there is room, and returns how to give them back.
func (b *bodyBudget) reserve(n int64) (release func(), ok bool) {
	if n <= smallBody {
		if !b.all.TryAcquire(n) {
			return nil, false
		}
		return func() { b.all.Release(n) }, true
	}
	if !b.large.TryAcquire(n) {
		return nil, false
	}
	if !b.all.TryAcquire(n) {
		b.large.Release(n)
		return nil, false
	}
	return func() { b.all.Release(n); b.large.Release(n) }, true
}
