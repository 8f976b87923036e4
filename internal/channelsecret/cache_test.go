package channelsecret_test

import (
	"context"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/channelsecret"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m, &env))
}

// TestDeletedChannelsLeaveTheCache reads a channel's secrets through the
// cache, then deletes the channel (or its Secret): its values must not stay in
// memory.
func TestDeletedChannelsLeaveTheCache(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	informers, err := ctrlcache.New(env.Config, ctrlcache.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	c := channelsecret.NewCache(env.Client)
	if err := c.ForgetDeleted(ctx, informers); err != nil {
		t.Fatal(err)
	}
	go func() { _ = informers.Start(ctx) }()
	if !informers.WaitForCacheSync(ctx) {
		t.Fatal("informers did not sync")
	}

	ns := env.Namespace(t)
	newChannel := func(name string) *commercev1alpha1.WhatsAppChannel {
		t.Helper()
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: map[string]string{
			commercev1alpha1.SecretKeyWebhookToken: "a-long-random-webhook-token",
			commercev1alpha1.SecretKeyAppSecret:    "app-secret-" + name,
		}}
		ch := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: commercev1alpha1.WhatsAppChannelSpec{PhoneNumberID: "1234", SecretRef: commercev1alpha1.SecretReference{Name: name}}}
		for _, o := range []client.Object{secret, ch} {
			if err := env.Client.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		vals, _, err := c.Get(ctx, ch, time.Hour)
		if err != nil || string(vals.AppSecret) != "app-secret-"+name {
			t.Fatalf("Get %s: %v", name, err)
		}
		if !c.Holds(client.ObjectKeyFromObject(ch)) {
			t.Fatalf("the cache does not hold %s's values after reading them", name)
		}
		return ch
	}

	deleted, kept := newChannel("deleted"), newChannel("kept")
	if err := env.Client.Delete(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the deleted channel's values to leave the cache", func() bool {
		return !c.Holds(client.ObjectKeyFromObject(deleted))
	})
	if !c.Holds(client.ObjectKeyFromObject(kept)) {
		t.Error("deleting one channel dropped another's values")
	}

	// A Secret deleted under a live channel: the next read fails, and what was
	// read before goes too.
	if err := env.Client.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kept"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Get(ctx, kept, 0); err == nil {
		t.Fatal("Get succeeded after the Secret was deleted")
	}
	if c.Holds(client.ObjectKeyFromObject(kept)) {
		t.Error("the cache holds the values of a deleted Secret")
	}
}
