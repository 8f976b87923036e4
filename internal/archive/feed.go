package archive

import (
	"context"
	"fmt"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// AddToManager runs the archive in mgr: the writer, a feed that enqueues
// every version of kinds (e.g. &WhatsAppOrder{}) that the manager's informers
// see, on creation, on every change and on deletion, and a sweep that marks
// the rows of resources deleted while no leader watched. namespaces are the
// ones mgr's caches watch (empty: all); the sweep leaves the rows of others
// alone, which another deployment sharing the database may watch.
//
// All run on the elected leader only, which runs the retention that asks the
// archive: one writer per resource keeps PostgreSQL at one upsert per change,
// where every replica writing would multiply that for nothing. A new leader's
// informers list every live resource again, so what a leader that stopped had
// not written yet is written by the next one (the upsert makes it harmless to
// write a version twice), and its sweep records what left meanwhile.
func (a *Archive) AddToManager(mgr manager.Manager, namespaces []string, kinds ...client.Object) error {
	if err := mgr.Add(a); err != nil {
		return fmt.Errorf("adding the archive writer: %w", err)
	}
	if err := mgr.Add(&feed{archive: a, informers: mgr.GetCache(), kinds: kinds}); err != nil {
		return fmt.Errorf("adding the archive feed: %w", err)
	}
	if err := mgr.Add(&sweep{archive: a, informers: mgr.GetCache(), cache: mgr.GetCache(), api: mgr.GetAPIReader(),
		namespaces: namespaces, kinds: kinds}); err != nil {
		return fmt.Errorf("adding the archive sweep: %w", err)
	}
	return nil
}

// feed enqueues what informers see. It writes every new resourceVersion, not
// only spec or status changes: retention asks whether the archive holds the
// resource's current version, which a label change moves on too.
type feed struct {
	archive   *Archive
	informers cache.Informers
	kinds     []client.Object
}

func (f *feed) Start(ctx context.Context) error {
	f.archive.feeding(1)
	// Deferred first, so it runs after the handlers are removed.
	defer f.archive.feeding(-1)
	log := f.archive.opts.Log
	enqueue := func(obj any, deleted bool) {
		if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		o, ok := obj.(client.Object)
		if !ok {
			return
		}
		enqueue := f.archive.Enqueue
		if deleted {
			enqueue = f.archive.EnqueueDeleted
		}
		if err := enqueue(o); err != nil {
			log.Error(err, "not archived", "namespace", o.GetNamespace(), "name", o.GetName())
		}
	}
	handler := toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { enqueue(obj, false) },
		UpdateFunc: func(old, obj any) {
			// Periodic resyncs deliver the same version again.
			o, okOld := old.(client.Object)
			n, okNew := obj.(client.Object)
			if okOld && okNew && o.GetResourceVersion() != n.GetResourceVersion() {
				enqueue(obj, false)
			}
		},
		DeleteFunc: func(obj any) { enqueue(obj, true) },
	}
	for _, kind := range f.kinds {
		inf, err := f.informers.GetInformer(ctx, kind)
		if err != nil {
			return fmt.Errorf("archive feed: informer for %T: %w", kind, err)
		}
		reg, err := inf.AddEventHandler(handler)
		if err != nil {
			return fmt.Errorf("archive feed: watching %T: %w", kind, err)
		}
		defer func() { _ = inf.RemoveEventHandler(reg) }()
	}
	<-ctx.Done()
	return nil
}
