package webhookreceiver

import (
	"k8s.io/apimachinery/pkg/util/validation"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// labels are the labels of a resource created for a customer's message.
func labels(channel string, customer commercev1alpha1.Customer) map[string]string {
	// The API server keeps channel names to what a label value can hold.
	l := map[string]string{commercev1alpha1.LabelChannel: channel}
	if customer.WaID != "" && len(validation.IsValidLabelValue(customer.WaID)) == 0 {
		l[commercev1alpha1.LabelCustomer] = customer.WaID
	}
	return l
}
