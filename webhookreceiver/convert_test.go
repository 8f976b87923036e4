package webhookreceiver

import (
	"testing"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

func TestFormatOf(t *testing.T) {
	tests := []struct {
		api  commercev1alpha1.APIGeneration
		want payload.Format
	}{
		{"", payload.Cloud}, // the default generation
		{commercev1alpha1.APICloud, payload.Cloud},
		{commercev1alpha1.APIOnPremises, payload.OnPremises},
		{"Telegraph", 0},
	}
	for _, tt := range tests {
		ch := &commercev1alpha1.WhatsAppChannel{Spec: commercev1alpha1.WhatsAppChannelSpec{API: tt.api}}
		if got := formatOf(ch); got != tt.want {
			t.Errorf("formatOf(%q) = %v, want %v", tt.api, got, tt.want)
		}
	}
}
