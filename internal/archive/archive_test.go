package archive_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/archive"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/pgtest"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

var (
	serverURL string
	env       *testenv.Env
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m, &env, func(*testenv.Env) (func(), error) {
		url, undo, err := pgtest.Shared()
		serverURL = url
		return undo, err
	}))
}

// harness is an archive on a fresh database, its writer running until the
// test ends.
type harness struct {
	*archive.Archive
	url string
	reg *prometheus.Registry
}

func start(t *testing.T, dbURL string, opts archive.Options) *harness {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Scheme = env.Scheme
	opts.Registerer = reg
	opts.Log = zap.New(zap.UseDevMode(true), zap.WriteTo(testWriter{t}))
	a, err := archive.New(dbURL, opts)
	if err != nil {
		t.Fatalf("archive.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- a.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("writer stopped with %v", err)
		}
		a.Close()
	})
	return &harness{Archive: a, url: dbURL, reg: reg}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func order(name string, version int, state commercev1alpha1.OrderState) *commercev1alpha1.WhatsAppOrder {
	return &commercev1alpha1.WhatsAppOrder{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:         "shop",
			Name:              name,
			UID:               types.UID(uuid.NewString()),
			ResourceVersion:   strconv.Itoa(version),
			Generation:        2,
			CreationTimestamp: metav1.NewTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)),
			Labels:            map[string]string{"commerce.wa.dev/channel": "main", "commerce.wa.dev/customer": "16505551234"},
		},
		Spec: commercev1alpha1.WhatsAppOrderSpec{
			Channel:    "main",
			MessageID:  "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTdGOEM2RjQ4QUU1RTE0NjUyNgA=",
			ReceivedAt: metav1.NewTime(time.Date(2026, 3, 1, 9, 59, 58, 0, time.UTC)),
			Customer:   commercev1alpha1.Customer{WaID: "16505551234", Name: "Ana Ñúñez"},
			CatalogID:  "194836987003835",
			Items: []commercev1alpha1.OrderItem{
				{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "7.99", Currency: "EUR"},
				{ProductRetailerID: "nqryix03ez", Quantity: 1, ItemPrice: "30", Currency: "EUR"},
			},
			Text:  "ring twice",
			State: state,
		},
		Status: commercev1alpha1.WhatsAppOrderStatus{
			ObservedGeneration: 2,
			Phase:              commercev1alpha1.OrderPhase(state),
			ItemCount:          3,
			Total:              "45.98",
			Currency:           "EUR",
			Conditions: []metav1.Condition{{
				Type: "Ready", Status: metav1.ConditionTrue, Reason: "Notified", Message: "the customer was told",
				ObservedGeneration: 2, LastTransitionTime: metav1.NewTime(time.Date(2026, 3, 1, 10, 0, 1, 0, time.UTC)),
			}},
		},
	}
}

func inquiry(name string, version int) *commercev1alpha1.ProductInquiry {
	return &commercev1alpha1.ProductInquiry{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "shop", Name: name, UID: types.UID(uuid.NewString()), ResourceVersion: strconv.Itoa(version),
			CreationTimestamp: metav1.NewTime(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)),
		},
		Spec: commercev1alpha1.ProductInquirySpec{
			Channel: "main", MessageID: "wamid.inquiry-1",
			ReceivedAt: metav1.NewTime(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)),
			Customer:   commercev1alpha1.Customer{UserID: "US.13491208655302741918"},
			Product:    commercev1alpha1.ProductReference{CatalogID: "194836987003835", ProductRetailerID: "di9ozbzfi4"},
			Question:   "Do you have it in blue?",
		},
		Status: commercev1alpha1.ProductInquiryStatus{Phase: commercev1alpha1.InquiryOpen},
	}
}

// row is what the archive holds for one resource.
type row struct {
	namespace, name, channel, phase string
	version                         int64
	created                         time.Time
	deleted                         *time.Time
	archivedAt                      time.Time
	document                        []byte
}

// connect opens a connection to read the archive with, for one test.
func connect(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func readRow(t *testing.T, conn *pgx.Conn, table string, uid types.UID) (row, bool) {
	t.Helper()
	var r row
	err := conn.QueryRow(context.Background(), `SELECT namespace, name, coalesce(channel, ''), coalesce(phase, ''), resource_version,
		created_at, deleted_at, archived_at, document FROM whatsapp_commerce.`+table+` WHERE uid = $1`, string(uid)).
		Scan(&r.namespace, &r.name, &r.channel, &r.phase, &r.version, &r.created, &r.deleted, &r.archivedAt, &r.document)
	if err == pgx.ErrNoRows {
		return row{}, false
	}
	if err != nil {
		t.Fatalf("reading %s %s: %v", table, uid, err)
	}
	return r, true
}

func waitArchived(t *testing.T, a *archive.Archive, objs ...client.Object) {
	t.Helper()
	for _, obj := range objs {
		testenv.Eventually(t, 30*time.Second, "the archive to hold "+obj.GetName()+" at "+obj.GetResourceVersion(), func() bool {
			ok, err := a.Archived(context.Background(), obj)
			return err == nil && ok
		})
	}
}

func enqueue(t *testing.T, a *archive.Archive, objs ...client.Object) {
	t.Helper()
	for _, obj := range objs {
		if err := a.Enqueue(obj); err != nil {
			t.Fatalf("Enqueue %s: %v", obj.GetName(), err)
		}
	}
}

func TestRowsMatchTheResourcesFieldForField(t *testing.T) {
	a := start(t, pgtest.Database(t, serverURL), archive.Options{})
	o := order("order-1", 1042, commercev1alpha1.OrderAccepted)
	// The document is the whole resource: the payment comes with it.
	o.Spec.Payment = &commercev1alpha1.OrderPayment{Gateway: &commercev1alpha1.GatewayPayment{ConfigurationName: "razorpay-prod"}, Shipping: "50"}
	o.Status.Payment = &commercev1alpha1.OrderPaymentStatus{ReferenceID: "wao-3f2a9c1b7d4e5f60718293a4b5c6d7e", Status: commercev1alpha1.PaymentCaptured,
		TransactionID: "pay_1", Amount: "1049", Currency: "INR", Refunds: []commercev1alpha1.PaymentRefund{{ID: "rfnd_1", Amount: "49", Status: "completed"}}}
	i := inquiry("inquiry-1", 1043)
	enqueue(t, a.Archive, o, i)
	waitArchived(t, a.Archive, o, i)

	r, ok := readRow(t, connect(t, a.url), "orders", o.UID)
	if !ok {
		t.Fatal("no row for the order")
	}
	if r.namespace != "shop" || r.name != "order-1" || r.version != 1042 || !r.created.Equal(o.CreationTimestamp.Time) ||
		r.channel != "main" || r.phase != "Accepted" || r.deleted != nil {
		t.Errorf("order row columns = %+v", r)
	}
	if time.Since(r.archivedAt) > time.Minute || time.Until(r.archivedAt) > time.Minute {
		t.Errorf("archived_at = %s, not now", r.archivedAt)
	}
	var got commercev1alpha1.WhatsAppOrder
	if err := json.Unmarshal(r.document, &got); err != nil {
		t.Fatalf("document is not an order: %v", err)
	}
	want := o.DeepCopy()
	want.APIVersion, want.Kind = "commerce.wa.dev/v1alpha1", "WhatsAppOrder"
	if !equality.Semantic.DeepEqual(&got, want) {
		t.Errorf("order document differs:\n got %+v\nwant %+v", got, *want)
	}

	r, ok = readRow(t, connect(t, a.url), "inquiries", i.UID)
	if !ok {
		t.Fatal("no row for the inquiry")
	}
	var gotInquiry commercev1alpha1.ProductInquiry
	if err := json.Unmarshal(r.document, &gotInquiry); err != nil {
		t.Fatalf("document is not an inquiry: %v", err)
	}
	wantInquiry := i.DeepCopy()
	wantInquiry.APIVersion, wantInquiry.Kind = "commerce.wa.dev/v1alpha1", "ProductInquiry"
	if !equality.Semantic.DeepEqual(&gotInquiry, wantInquiry) || r.phase != "Open" || r.version != 1043 {
		t.Errorf("inquiry row = %+v, document %s", r, r.document)
	}
	if _, ok := readRow(t, connect(t, a.url), "orders", i.UID); ok {
		t.Error("the inquiry was written to the orders table too")
	}

	pm := &commercev1alpha1.ProductMessage{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "spring-offer", UID: types.UID(uuid.NewString()), ResourceVersion: "1044",
			CreationTimestamp: metav1.NewTime(time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC))},
		Spec: commercev1alpha1.ProductMessageSpec{Channel: "main", To: commercev1alpha1.Recipient{WaID: "16505551234"}, CatalogID: "194836987003835",
			Product: &commercev1alpha1.SingleProduct{ProductRetailerID: "di9ozbzfi4"}, Body: "New in blue"},
		Status: commercev1alpha1.ProductMessageStatus{Phase: commercev1alpha1.ProductMessageSent, Orders: 2,
			Revenue: []commercev1alpha1.Revenue{{Currency: "EUR", Total: "91.96"}}},
	}
	enqueue(t, a.Archive, pm)
	waitArchived(t, a.Archive, pm)
	r, ok = readRow(t, connect(t, a.url), "product_messages", pm.UID)
	var gotPM commercev1alpha1.ProductMessage
	if !ok || json.Unmarshal(r.document, &gotPM) != nil {
		t.Fatalf("no product message row, or not a product message: %s", r.document)
	}
	wantPM := pm.DeepCopy()
	wantPM.APIVersion, wantPM.Kind = "commerce.wa.dev/v1alpha1", "ProductMessage"
	if !equality.Semantic.DeepEqual(&gotPM, wantPM) || r.phase != "Sent" || r.channel != "main" {
		t.Errorf("product message row = %+v, document %s", r, r.document)
	}
}

func TestAnOlderVersionNeverReplacesANewerOne(t *testing.T) {
	db := pgtest.Database(t, serverURL)
	a := start(t, db, archive.Options{})
	// Another replica, or a writer that was slow, holding an older version.
	b := start(t, db, archive.Options{})

	newer := order("order-1", 20, commercev1alpha1.OrderShipped)
	older := newer.DeepCopy()
	older.ResourceVersion = "9"
	older.Spec.State, older.Status.Phase = commercev1alpha1.OrderAccepted, "Accepted"

	enqueue(t, a.Archive, newer)
	waitArchived(t, a.Archive, newer)
	written := metric(t, b.reg, "whatsapp_archive_written_total")
	enqueue(t, b.Archive, older)
	testenv.Eventually(t, 30*time.Second, "the older version to be written", func() bool {
		return metric(t, b.reg, "whatsapp_archive_written_total") > written && b.Backlog() == 0
	})
	conn := connect(t, db)
	r, _ := readRow(t, conn, "orders", newer.UID)
	if r.version != 20 || r.phase != "Shipped" {
		t.Errorf("after the older version arrived the row is at version %d, phase %q; want 20, Shipped", r.version, r.phase)
	}
	if ok, err := b.Archived(context.Background(), older); err != nil || !ok {
		t.Errorf("Archived(older version) = %v, %v; the archive holds a later one", ok, err)
	}

	// The same within one writer: a version enqueued after a newer one is
	// dropped before it reaches PostgreSQL, and the newest is written.
	c := order("order-2", 30, commercev1alpha1.OrderDelivered)
	cOld := c.DeepCopy()
	cOld.ResourceVersion, cOld.Status.Phase = "29", "Shipped"
	enqueue(t, a.Archive, c, cOld)
	waitArchived(t, a.Archive, c)
	if r, _ := readRow(t, conn, "orders", c.UID); r.version != 30 || r.phase != "Delivered" {
		t.Errorf("row at version %d, phase %q; want 30, Delivered", r.version, r.phase)
	}
}

func TestDeletionIsRecorded(t *testing.T) {
	a := start(t, pgtest.Database(t, serverURL), archive.Options{})
	o := order("order-1", 5, commercev1alpha1.OrderDelivered)
	enqueue(t, a.Archive, o)
	waitArchived(t, a.Archive, o)
	gone := o.DeepCopy()
	gone.ResourceVersion = "8"
	if err := a.EnqueueDeleted(gone); err != nil {
		t.Fatal(err)
	}
	waitArchived(t, a.Archive, gone)
	r, _ := readRow(t, connect(t, a.url), "orders", o.UID)
	if r.deleted == nil || r.version != 8 || r.phase != "Delivered" {
		t.Errorf("after deletion the row is %+v; want deleted_at set, version 8, the document kept", r)
	}
}

func TestNothingIsLostWhilePostgreSQLIsDown(t *testing.T) {
	server, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := server.Destroy(); err != nil {
			t.Error(err)
		}
	})
	db := pgtest.Database(t, server.URL)
	a := start(t, db, archive.Options{BatchSize: 7, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, WriteTimeout: 5 * time.Second})

	const n = 120
	orders := make([]*commercev1alpha1.WhatsAppOrder, n)
	for i := range orders {
		orders[i] = order(fmt.Sprintf("order-%03d", i), 100+i, commercev1alpha1.OrderPending)
	}
	// The first half reaches PostgreSQL before it stops.
	for _, o := range orders[:n/2] {
		enqueue(t, a.Archive, o)
	}
	waitArchived(t, a.Archive, orders[n/2-1])
	if err := server.Stop(); err != nil {
		t.Fatal(err)
	}

	// While it is down, the second half arrives and every order changes.
	for i, o := range orders {
		if i >= n/2 {
			enqueue(t, a.Archive, o)
		}
		next := o.DeepCopy()
		next.ResourceVersion = strconv.Itoa(1000 + i)
		next.Spec.State, next.Status.Phase = commercev1alpha1.OrderAccepted, "Accepted"
		orders[i] = next
		enqueue(t, a.Archive, next)
	}
	testenv.Eventually(t, 30*time.Second, "the archive to report PostgreSQL down", func() bool { return a.Err() != nil })
	if got := a.Backlog(); got != n {
		t.Errorf("backlog while PostgreSQL is down = %d, want %d (one pending version per order)", got, n)
	}
	if got := metric(t, a.reg, "whatsapp_archive_backlog"); got != n {
		t.Errorf("whatsapp_archive_backlog = %v, want %d", got, n)
	}
	for _, o := range []client.Object{orders[0], order("unknown", 1, commercev1alpha1.OrderPending)} {
		if ok, err := a.Archived(context.Background(), o); ok || err == nil {
			t.Errorf("Archived(%s) while PostgreSQL is down = %v, %v; want false with the error", o.GetName(), ok, err)
		}
	}

	if err := server.Resume(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, "the archive to catch up", func() bool { return a.Backlog() == 0 && a.Err() == nil })
	conn := connect(t, db)
	for _, o := range orders {
		r, ok := readRow(t, conn, "orders", o.UID)
		if !ok || strconv.FormatInt(r.version, 10) != o.ResourceVersion || r.phase != "Accepted" {
			t.Errorf("%s: row %+v (present %v); want version %s, Accepted", o.Name, r, ok, o.ResourceVersion)
		}
	}
	if got := metric(t, a.reg, "whatsapp_archive_backlog"); got != 0 {
		t.Errorf("whatsapp_archive_backlog after catching up = %v", got)
	}
	if metric(t, a.reg, "whatsapp_archive_failures_total") == 0 {
		t.Error("no failure counted while PostgreSQL was down")
	}
}

func TestAWrongPasswordIsAClearErrorNotACrash(t *testing.T) {
	db := pgtest.Database(t, serverURL)
	const wrong = "not-the-password-42"
	bad := strings.Replace(db, db[strings.Index(db, "archive:")+len("archive:"):strings.Index(db, "@")], wrong, 1)
	var logs syncBuffer
	reg := prometheus.NewRegistry()
	a, err := archive.New(bad, archive.Options{
		Scheme: env.Scheme, Registerer: reg, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Log: zap.New(zap.WriteTo(&logs)),
	})
	if err != nil {
		t.Fatalf("archive.New refused a well-formed URL: %v", err)
	}
	defer a.Close()
	if strings.Contains(a.URL(), wrong) {
		t.Errorf("URL() shows the password: %s", a.URL())
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- a.Start(ctx) }()
	o := order("order-1", 1, commercev1alpha1.OrderPending)
	enqueue(t, a, o)
	testenv.Eventually(t, 30*time.Second, "a failure counted", func() bool {
		return metric(t, reg, "whatsapp_archive_failures_total") >= 3
	})
	if err := a.Err(); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("Err() = %v; want it to say the password was refused", err)
	}
	select {
	case err := <-stopped:
		t.Fatalf("the writer gave up on a wrong password: %v", err)
	default:
	}
	if a.Backlog() != 1 {
		t.Errorf("backlog = %d, want the order kept", a.Backlog())
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Errorf("Start returned %v on shutdown", err)
	}
	if strings.Contains(logs.String(), wrong) || !strings.Contains(logs.String(), "xxxxx") {
		t.Errorf("logs show the password, or not the redacted URL:\n%s", logs.String())
	}

	if _, err := archive.New("postgres://archive:"+wrong+"@127.0.0.1:notaport/db", archive.Options{Scheme: env.Scheme}); err == nil || strings.Contains(err.Error(), wrong) {
		t.Errorf("New(unparsable URL) = %v; want an error without the password", err)
	}
}

func TestReplicasMigratingAtOnceApplyEachMigrationOnce(t *testing.T) {
	db := pgtest.Database(t, serverURL)
	var wg sync.WaitGroup
	applied := make([][]int, 4)
	errs := make([]error, 4)
	for i := range applied {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := archive.New(db, archive.Options{Scheme: env.Scheme})
			if err != nil {
				errs[i] = err
				return
			}
			defer a.Close()
			applied[i], errs[i] = a.Migrate(context.Background())
		}()
	}
	wg.Wait()
	total := 0
	for i := range applied {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		total += len(applied[i])
	}
	ctx := context.Background()
	conn := connect(t, db)
	var versions, tables int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM whatsapp_commerce.schema_migrations").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'whatsapp_commerce'
		AND table_name IN ('orders', 'inquiries', 'product_messages')`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if versions == 0 || total != versions || tables != 3 {
		t.Errorf("%d migrations applied by the replicas together, %d recorded, %d of the 3 tables; want each applied once", total, versions, tables)
	}
}

// metric reads one metric back from a registry, as Prometheus would scrape it.
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			m := f.GetMetric()[0]
			return m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
