package webhookreceiver

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

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

// tenantShares is how many namespaces it takes to hold all of the body budget,
// or all of the stores admitted at once: one namespace holds at most this
// fraction of either. A namespace, not a channel, is the unit, because a tenant
// with the edit role makes as many channels in its namespace as it likes.
//
// A body is held from before its first byte is read until its answer, so the
// share bounds first of all the bytes nobody has vouched for yet: a signature
// can only be checked once the whole body is in, and anyone who learnt a
// channel's path can start uploads to it. Whatever arrives at one tenant's
// paths, signed or not, slow or fast, the others keep three quarters.
const tenantShares = 4

// tenantShare is what one namespace may hold of a budget of total bytes: its
// fraction, but never less than the largest body (else such a body could
// never be received), nor more than the budget.
func tenantShare(total int64) int64 {
	return max(total/tenantShares, min(MaxBodyBytes, total))
}

var bodyBytesHeld = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "whatsapp_receiver_body_bytes_held",
	Help: "Bytes of webhook bodies the receiver has reserved room for (declared lengths), being read or stored; beyond the body budget, or a namespace's share of it, bodies are answered 503.",
})

func init() { metrics.Registry.MustRegister(bodyBytesHeld) }

// bodyBudget bounds the request bodies held in memory, in all and per
// namespace. A request reserves the body's declared length (MaxBodyBytes when
// it declares none) before it is read, and gets nothing when there is no room:
// it is answered 503 at once, rather than the heap growing past the
// container's memory limit or one tenant's uploads taking every other's room.
type bodyBudget struct {
	all, large *semaphore.Weighted
	tenants    *shares
}

func newBodyBudget(total int64) *bodyBudget {
	return &bodyBudget{
		all:     semaphore.NewWeighted(total),
		large:   semaphore.NewWeighted(max(total-smallReserve, 0)),
		tenants: newShares(tenantShare(total)),
	}
}

// reserve takes n bytes for a body sent to a channel of namespace if there
// is room, and returns how to give them back.
func (b *bodyBudget) reserve(namespace string, n int64) (release func(), ok bool) {
	releaseTenant, ok := b.tenants.take(namespace, n, (*semaphore.Weighted).TryAcquire)
	if !ok {
		return nil, false
	}
	if n <= smallBody {
		if !b.all.TryAcquire(n) {
			releaseTenant()
			return nil, false
		}
		bodyBytesHeld.Add(float64(n))
		return func() { bodyBytesHeld.Sub(float64(n)); b.all.Release(n); releaseTenant() }, true
	}
	if !b.large.TryAcquire(n) {
		releaseTenant()
		return nil, false
	}
	if !b.all.TryAcquire(n) {
		b.large.Release(n)
		releaseTenant()
		return nil, false
	}
	bodyBytesHeld.Add(float64(n))
	return func() { bodyBytesHeld.Sub(float64(n)); b.all.Release(n); b.large.Release(n); releaseTenant() }, true
}

// shares gives every key (a namespace) a semaphore of the same size, kept
// only while someone holds or waits for it, so that the map is as large as
// the namespaces with requests in flight, not every namespace ever seen.
type shares struct {
	size int64

	mu sync.Mutex
	m  map[string]*share
}

type share struct {
	sem   *semaphore.Weighted
	users int
}

func newShares(size int64) *shares {
	return &shares{size: size, m: map[string]*share{}}
}

// take takes n from key's semaphore with acquire (which may wait, or not),
// and returns how to give it back.
func (s *shares) take(key string, n int64, acquire func(*semaphore.Weighted, int64) bool) (release func(), ok bool) {
	s.mu.Lock()
	sh := s.m[key]
	if sh == nil {
		sh = &share{sem: semaphore.NewWeighted(s.size)}
		s.m[key] = sh
	}
	sh.users++
	s.mu.Unlock()
	done := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if sh.users--; sh.users == 0 {
			delete(s.m, key)
		}
	}
	if !acquire(sh.sem, n) {
		done()
		return nil, false
	}
	return func() { sh.sem.Release(n); done() }, true
}
