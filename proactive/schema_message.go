package proactive

import "time"

// SchemaMessageAlert is the event name of a message notification.
const SchemaMessageAlert = "AMAZON.MessageAlert.Activated"

// MessageStatus is the state of the messages.
type MessageStatus string

// The message statuses.
const (
	MessageUnread  MessageStatus = "UNREAD"
	MessageFlagged MessageStatus = "FLAGGED"
)

func (MessageStatus) enum() enumSet { return enumOf(MessageUnread, MessageFlagged) }

// MessageFreshness says whether the messages are new or overdue.
type MessageFreshness string

// The message freshness values.
const (
	FreshnessNew     MessageFreshness = "NEW"
	FreshnessOverdue MessageFreshness = "OVERDUE"
)

func (MessageFreshness) enum() enumSet { return enumOf(FreshnessNew, FreshnessOverdue) }

// MessageUrgency marks urgent messages.
type MessageUrgency string

// UrgencyUrgent is the one urgency value.
const UrgencyUrgent MessageUrgency = "URGENT"

func (MessageUrgency) enum() enumSet { return enumOf(UrgencyUrgent) }

// MessageAlertActivated is the payload of AMAZON.MessageAlert.Activated.
// Fields are required unless marked optional.
type MessageAlertActivated struct {
	State        MessageState `json:"state" schema:"required"`
	MessageGroup MessageGroup `json:"messageGroup" schema:"required"`
}

// MessageState is the status (required) and freshness (optional) of the
// messages.
type MessageState struct {
	Status    MessageStatus    `json:"status" schema:"required"`
	Freshness MessageFreshness `json:"freshness,omitempty"`
}

// MessageGroup is who sent how many messages.
type MessageGroup struct {
	// Creator.Name is the sender, said as is.
	Creator Named `json:"creator" schema:"required"`
	// Count is how many messages, 0 or more.
	Count int `json:"count" schema:"required"`
	// Urgency is optional.
	Urgency MessageUrgency `json:"urgency,omitempty"`
}

// EventName returns SchemaMessageAlert.
func (MessageAlertActivated) EventName() string { return SchemaMessageAlert }

var messageAlertSchema = declare[MessageAlertActivated](SchemaInfo{
	Template: "You have <messageGroup.count>[ <state.freshness>] <state.status>[ <messageGroup.urgency>] " +
		"<messageGroup.count?1=message|messages> from <messageGroup.creator.name>.",
	Example: func(time.Time) (Schema, map[string]string) {
		return MessageAlertActivated{
			State:        MessageState{Status: MessageUnread, Freshness: FreshnessNew},
			MessageGroup: MessageGroup{Creator: Named{"Andy"}, Count: 5, Urgency: UrgencyUrgent},
		}, nil
	},
})
