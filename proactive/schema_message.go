package proactive

import (
	"fmt"
	"strings"
	"time"
)

// SchemaMessageAlert is the event name of a message notification.
const SchemaMessageAlert = "AMAZON.MessageAlert.Activated"

// MessageStatus is the state of the messages.
type MessageStatus string

// The message statuses.
const (
	MessageUnread  MessageStatus = "UNREAD"
	MessageFlagged MessageStatus = "FLAGGED"
)

// MessageFreshness says whether the messages are new or overdue.
type MessageFreshness string

// The message freshness values.
const (
	FreshnessNew     MessageFreshness = "NEW"
	FreshnessOverdue MessageFreshness = "OVERDUE"
)

// MessageUrgency marks urgent messages.
type MessageUrgency string

// UrgencyUrgent is the one urgency value.
const UrgencyUrgent MessageUrgency = "URGENT"

var (
	messageStatuses  = enum[MessageStatus]{MessageUnread, MessageFlagged}
	messageFreshness = enum[MessageFreshness]{FreshnessNew, FreshnessOverdue}
	messageUrgencies = enum[MessageUrgency]{UrgencyUrgent}
)

// MessageAlertActivated is the payload of AMAZON.MessageAlert.Activated.
// Fields are required unless marked optional.
type MessageAlertActivated struct {
	State        MessageState `json:"state"`
	MessageGroup MessageGroup `json:"messageGroup"`
}

// MessageState is the status (required) and freshness (optional) of the
// messages.
type MessageState struct {
	Status    MessageStatus    `json:"status"`
	Freshness MessageFreshness `json:"freshness,omitempty"`
}

// MessageGroup is who sent how many messages.
type MessageGroup struct {
	// Creator.Name is the sender, said as is.
	Creator Named `json:"creator"`
	// Count is how many messages, 0 or more.
	Count int `json:"count"`
	// Urgency is optional.
	Urgency MessageUrgency `json:"urgency,omitempty"`
}

// EventName returns SchemaMessageAlert.
func (MessageAlertActivated) EventName() string { return SchemaMessageAlert }

func (p MessageAlertActivated) speak(text func(string) string) string {
	g := p.MessageGroup
	noun := "messages"
	if g.Count == 1 {
		noun = "message"
	}
	return sentence("You have", fmt.Sprint(g.Count), words(p.State.Freshness), words(p.State.Status), words(g.Urgency),
		noun, "from", strings.TrimSpace(text(g.Creator.Name))) + "."
}

var messageAlertSchema = schemaDef{
	SchemaInfo: SchemaInfo{
		Name:     SchemaMessageAlert,
		Template: "You have <count> <freshness> <status> <urgency> message(s) from <creator>.",
		Example: func(time.Time) (Schema, map[string]string) {
			return MessageAlertActivated{
				State:        MessageState{Status: MessageUnread, Freshness: FreshnessNew},
				MessageGroup: MessageGroup{Creator: Named{"Andy"}, Count: 5, Urgency: UrgencyUrgent},
			}, nil
		},
	},
	check: func(p node) {
		s := p.object("state", true)
		s.enum("status", true, messageStatuses)
		s.enum("freshness", false, messageFreshness)
		g := p.object("messageGroup", true)
		g.object("creator", true).str("name", true)
		g.count("count", true)
		g.enum("urgency", false, messageUrgencies)
	},
	decode: func() speaker { return new(MessageAlertActivated) },
}
