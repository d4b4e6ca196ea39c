package proactive

import "time"

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

func (ConfirmationStatus) enum() enumSet {
	return enumOf(BookingConfirmed, BookingCanceled, BookingRescheduled, BookingRequested, BookingReceived, BookingCreated, BookingUpdated)
}

// OccasionType is what kind of booking it is.
type OccasionType string

// The occasion types.
const (
	OccasionReservationRequest OccasionType = "RESERVATION_REQUEST"
	OccasionReservation        OccasionType = "RESERVATION"
	OccasionAppointmentRequest OccasionType = "APPOINTMENT_REQUEST"
	OccasionAppointment        OccasionType = "APPOINTMENT"
)

func (OccasionType) enum() enumSet {
	return enumOf(OccasionReservationRequest, OccasionReservation, OccasionAppointmentRequest, OccasionAppointment)
}

// OccasionUpdated is the payload of AMAZON.Occasion.Updated.
// Fields are required unless marked optional.
type OccasionUpdated struct {
	State    OccasionState `json:"state" schema:"required"`
	Occasion Occasion      `json:"occasion" schema:"required"`
}

// OccasionState holds the booking's confirmation status.
type OccasionState struct {
	ConfirmationStatus ConfirmationStatus `json:"confirmationStatus" schema:"required"`
}

// Occasion is the booking.
type Occasion struct {
	OccasionType OccasionType `json:"occasionType" schema:"required"`
	// Subject is usually SubjectPlaceholder.
	Subject string `json:"subject" schema:"required,text=subject"`
	// Provider.Name is usually ProviderNamePlaceholder.
	Provider Named `json:"provider" schema:"required,text=providerName"`
	// BookingTime is an ISO 8601 date-time (FormatTime renders one).
	BookingTime string `json:"bookingTime" schema:"required,time"`
	// Broker is who took the booking; optional. Its name is usually
	// BrokerNamePlaceholder.
	Broker *Named `json:"broker,omitempty" schema:"text=brokerName"`
}

// EventName returns SchemaOccasion.
func (OccasionUpdated) EventName() string { return SchemaOccasion }

var occasionSchema = declare[OccasionUpdated](SchemaInfo{
	Template: "Your <occasion.occasionType> at <occasion.provider.name> for <occasion.subject> " +
		"on <occasion.bookingTime> has been <state.confirmationStatus>.",
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
})
