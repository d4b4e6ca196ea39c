package proactive

import (
	"fmt"
	"time"
)

// SchemaOccasion is the event name of a reservation or appointment update.
const SchemaOccasion = "AMAZON.Occasion.Updated"

// Conventional placeholders of the occasion's localized fields. The
// provider's name placeholder is shared with MediaContent.
const (
	SubjectPlaceholder      = PlaceholderPrefix + "subject"
	ProviderNamePlaceholder = PlaceholderPrefix + "providerName"
	BrokerNamePlaceholder   = PlaceholderPrefix + "brokerName"
)

// ConfirmationStatus is what happened to the booking.
type ConfirmationStatus string

// The confirmation statuses. Sources disagree on REQUESTED (Jovo, voxa,
// ask-utils) and RECEIVED (Alexa.NET): both are accepted.
const (
	BookingConfirmed   ConfirmationStatus = "CONFIRMED"
	BookingCanceled    ConfirmationStatus = "CANCELED"
	BookingRescheduled ConfirmationStatus = "RESCHEDULED"
	BookingRequested   ConfirmationStatus = "REQUESTED"
	BookingReceived    ConfirmationStatus = "RECEIVED"
	BookingCreated     ConfirmationStatus = "CREATED"
	BookingUpdated     ConfirmationStatus = "UPDATED"
)

// OccasionType is what kind of booking it is.
type OccasionType string

// The occasion types.
const (
	OccasionReservationRequest OccasionType = "RESERVATION_REQUEST"
	OccasionReservation        OccasionType = "RESERVATION"
	OccasionAppointmentRequest OccasionType = "APPOINTMENT_REQUEST"
	OccasionAppointment        OccasionType = "APPOINTMENT"
)

var (
	confirmationStatuses = enum[ConfirmationStatus]{BookingConfirmed, BookingCanceled, BookingRescheduled, BookingRequested, BookingReceived, BookingCreated, BookingUpdated}
	occasionTypes        = enum[OccasionType]{OccasionReservationRequest, OccasionReservation, OccasionAppointmentRequest, OccasionAppointment}
)

// OccasionUpdated is the payload of AMAZON.Occasion.Updated.
// Fields are required unless marked optional.
type OccasionUpdated struct {
	State    OccasionState `json:"state"`
	Occasion Occasion      `json:"occasion"`
}

// OccasionState holds the booking's confirmation status.
type OccasionState struct {
	ConfirmationStatus ConfirmationStatus `json:"confirmationStatus"`
}

// Occasion is the booking.
type Occasion struct {
	OccasionType OccasionType `json:"occasionType"`
	// Subject is usually SubjectPlaceholder.
	Subject string `json:"subject"`
	// Provider.Name is usually ProviderNamePlaceholder.
	Provider Named `json:"provider"`
	// BookingTime is an ISO 8601 date-time (FormatTime renders one).
	BookingTime string `json:"bookingTime"`
	// Broker is who took the booking; optional. Its name is usually
	// BrokerNamePlaceholder.
	Broker *Named `json:"broker,omitempty"`
}

// EventName returns SchemaOccasion.
func (OccasionUpdated) EventName() string { return SchemaOccasion }

func (p OccasionUpdated) speak(text func(string) string) string {
	o := p.Occasion
	return fmt.Sprintf("Your %s at %s for %s on %s has been %s.", words(o.OccasionType), text(o.Provider.Name),
		text(o.Subject), spokenTime(o.BookingTime), words(p.State.ConfirmationStatus))
}

var occasionSchema = schemaDef{
	SchemaInfo: SchemaInfo{
		Name:     SchemaOccasion,
		Template: "Your <occasionType> at <provider> for <subject> on <bookingTime> has been <confirmationStatus>.",
		Example: func(now time.Time) (Schema, map[string]string) {
			return OccasionUpdated{
					State: OccasionState{ConfirmationStatus: BookingConfirmed},
					Occasion: Occasion{
						OccasionType: OccasionAppointment,
						Subject:      SubjectPlaceholder,
						Provider:     Named{ProviderNamePlaceholder},
						BookingTime:  FormatTime(ahead(now, 48*time.Hour)),
						Broker:       &Named{BrokerNamePlaceholder},
					},
				}, map[string]string{
					"subject": "a dental cleaning", "providerName": "Smile Dental", "brokerName": "BookIt",
				}
		},
	},
	check: func(p node) {
		p.object("state", true).enum("confirmationStatus", true, confirmationStatuses)
		o := p.object("occasion", true)
		o.enum("occasionType", true, occasionTypes)
		o.text("subject", SubjectPlaceholder, true)
		o.object("provider", true).text("name", ProviderNamePlaceholder, true)
		o.time("bookingTime", true)
		o.object("broker", false).text("name", BrokerNamePlaceholder, true)
	},
	decode: func() speaker { return new(OccasionUpdated) },
}
