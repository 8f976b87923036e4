package main

import (
	"encoding/json"
	"strconv"
	"time"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// cloudStatus is one element of a Cloud webhook's statuses array.
type cloudStatus struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
}

// statusBody is the Cloud webhook Meta sends to report that the message
// messageID to recipient reached status at.
func statusBody(messageID, recipient string, status commercev1alpha1.DeliveryStatus, at time.Time) ([]byte, error) {
	return json.Marshal(cloudBody{Object: "whatsapp_business_account", Entry: []cloudEntry{{
		ID: accountID,
		Changes: []cloudChange{{Field: "messages", Value: cloudValue{
			MessagingProduct: "whatsapp",
			Metadata:         cloudMetadata{DisplayPhoneNumber: displayPhone, PhoneNumberID: phoneNumberID},
			Statuses: []cloudStatus{{
				ID: messageID, Status: string(status), Timestamp: strconv.FormatInt(at.Unix(), 10), RecipientID: recipient,
			}},
		}}},
	}}})
}
