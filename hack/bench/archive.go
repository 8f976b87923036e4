package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/archive"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/pgtest"
)

// archiving is the archive as the operator runs it (writer, PostgreSQL on
// this machine) fed by the manager's order informer, switched on for the
// "archived" phases only: the same process and control plane measure the
// receiver with the archive off and on.
type archiving struct {
	archive *archive.Archive
	url     string
	on      atomic.Bool
}

// startArchiving starts a PostgreSQL (hack/postgres.sh) and the archive's
// writer, and feeds it from mgr's order informer while on. stop ends both.
func startArchiving(ctx context.Context, mgr ctrl.Manager) (*archiving, func(), error) {
	server, err := pgtest.Start()
	if err != nil {
		return nil, nil, err
	}
	a, err := archive.New(server.URL, archive.Options{Scheme: mgr.GetScheme(), Log: ctrl.Log.WithName("archive")})
	if err != nil {
		_ = server.Destroy()
		return nil, nil, err
	}
	ar := &archiving{archive: a, url: server.URL}
	inf, err := mgr.GetCache().GetInformer(ctx, &commercev1alpha1.WhatsAppOrder{})
	if err != nil {
		return nil, nil, errors.Join(err, server.Destroy())
	}
	enqueue := func(obj any) {
		if o, ok := obj.(client.Object); ok && ar.on.Load() {
			_ = a.Enqueue(o)
		}
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    func(obj any, _ bool) { enqueue(obj) },
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		return nil, nil, errors.Join(err, server.Destroy())
	}
	writerCtx, stopWriter := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Start(writerCtx); close(done) }()
	return ar, func() {
		stopWriter()
		<-done
		a.Close()
		_ = server.Destroy()
	}, nil
}

// verify waits for the writer to catch up and checks that the archive holds
// exactly one row for every order of specs.
func (ar *archiving) verify(ctx context.Context, specs []commercev1alpha1.WhatsAppOrderSpec) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for ar.archive.Backlog() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("the archive did not catch up: %d behind: %w", ar.archive.Backlog(), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	conn, err := pgx.Connect(ctx, ar.url)
	if err != nil {
		return fmt.Errorf("connecting to the archive: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	rows, err := conn.Query(ctx, `SELECT document #>> '{spec,messageID}' FROM whatsapp_commerce.orders
		WHERE document #>> '{spec,customer,waID}' = $1`, specs[0].Customer.WaID)
	if err != nil {
		return fmt.Errorf("reading the archive: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("reading the archive: %w", err)
	}
	want := make([]string, len(specs))
	for i := range specs {
		want[i] = specs[i].MessageID
	}
	return sameMessages(want, got)
}
