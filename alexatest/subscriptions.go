package alexatest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/validate"
	"github.com/alexa-oos/alexa/skill"
)

// Bounds of the simulated subscriptions: subscribing beyond them is
// refused.
const (
	// MaxSubscribedUsers is how many users may hold subscriptions.
	MaxSubscribedUsers = 10_000
	// MaxSubscriptionsPerUser is how many event names one user may be
	// subscribed to.
	MaxSubscriptionsPerUser = 64
	// MaxListedSubscribers is how many users an Event record lists in
	// Subscribers; SubscriberCount counts them all.
	MaxListedSubscribers = 1000
	maxEventNameBytes    = 256
)

// Subscription is one user's subscriptions to the skill's proactive
// events.
type Subscription struct {
	UserID string `json:"userId"`
	// EventNames are the schema names subscribed to, sorted, such as
	// "AMAZON.WeatherAlert.Activated".
	EventNames []string `json:"eventNames"`
}

// subscriptions is guarded by the emulator's mutex.
type subscriptions map[string][]string // userId → sorted event names

// CheckSubscription reports what is wrong with a subscription's userId
// and event name, as an *alexa.ValidationError naming the field, or nil:
// the userId is required and follows alexa.CheckUserID; the event name is
// required, at most 256 bytes, without spaces or control characters.
func CheckSubscription(userID, eventName string) error {
	return checkSubscription("alexatest", userID, eventName)
}

func checkSubscription(op, userID, eventName string) error {
	var vs validate.Violations
	if userID == "" {
		vs.Add("userId", "is required: the userId the skill sees in its requests", nil)
	}
	vs.AddUserID("userId", userID)
	switch {
	case eventName == "":
		vs.Add("eventName", "is required: a proactive event schema name, such as AMAZON.WeatherAlert.Activated", nil)
	case len(eventName) > maxEventNameBytes:
		vs.Add("eventName", fmt.Sprintf("must be at most %d bytes", maxEventNameBytes), fmt.Sprintf("%d bytes", len(eventName)))
	case strings.IndexFunc(eventName, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		vs.Add("eventName", "must not contain spaces or control characters", eventName)
	}
	return vs.Err(op)
}

// Subscribe subscribes userID to the proactive events named eventName, as
// a user does in the Alexa app. Until then, a Unicast event of that name
// to them is answered 403 (unless Options.AllowUnsubscribed). When that
// changes the user's subscriptions and a skill endpoint is set, an
// AlexaSkillEvent.ProactiveSubscriptionChanged request listing all of
// them is sent to the skill in the background (see WaitSkill,
// SkillDeliveries). A bad userId or eventName is an
// *alexa.ValidationError.
func (e *Emulator) Subscribe(userID, eventName string) error {
	_, j, err := e.setSubscription("alexatest.Subscribe", userID, eventName, true)
	e.sk.enqueue(j)
	return err
}

// Unsubscribe ends userID's subscription to eventName, and tells the skill
// as Subscribe does. Unsubscribing a user who is not subscribed changes
// nothing and sends nothing.
func (e *Emulator) Unsubscribe(userID, eventName string) error {
	_, j, err := e.setSubscription("alexatest.Unsubscribe", userID, eventName, false)
	e.sk.enqueue(j)
	return err
}

// Subscriptions returns every user's subscriptions, by userId.
func (e *Emulator) Subscriptions() []Subscription {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.subs.list("")
}

// Subscribed reports whether userID is subscribed to eventName.
func (e *Emulator) Subscribed(userID, eventName string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.subs.has(userID, eventName)
}

func (s subscriptions) has(userID, eventName string) bool {
	_, ok := slices.BinarySearch(s[userID], eventName)
	return ok
}

func (s subscriptions) list(userID string) []Subscription {
	out := []Subscription{}
	for u, names := range s {
		if userID == "" || u == userID {
			out = append(out, Subscription{UserID: u, EventNames: slices.Clone(names)})
		}
	}
	slices.SortFunc(out, func(a, b Subscription) int { return strings.Compare(a.UserID, b.UserID) })
	return out
}

// subscribers returns the users subscribed to eventName, sorted, at most
// MaxListedSubscribers of them, and how many there are.
func (s subscriptions) subscribers(eventName string) ([]string, int) {
	var users []string
	for u, names := range s {
		if _, ok := slices.BinarySearch(names, eventName); ok {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	return users[:min(len(users), MaxListedSubscribers)], len(users)
}

// setSubscription changes one subscription and, when it changed and a skill
// endpoint is set, returns the job telling the skill (to enqueue).
func (e *Emulator) setSubscription(op, userID, eventName string, on bool) (bool, *skillJob, error) {
	if err := checkSubscription(op, userID, eventName); err != nil {
		return false, nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	names := e.subs[userID]
	i, found := slices.BinarySearch(names, eventName)
	switch {
	case on == found:
		return false, nil, nil
	case on && names == nil && len(e.subs) >= MaxSubscribedUsers:
		return false, nil, fmt.Errorf("%s: %d users already hold subscriptions, the most the emulator keeps (MaxSubscribedUsers)", op, MaxSubscribedUsers)
	case on && len(names) >= MaxSubscriptionsPerUser:
		return false, nil, fmt.Errorf("%s: the user is already subscribed to %d event names, the most the emulator keeps (MaxSubscriptionsPerUser)", op, MaxSubscriptionsPerUser)
	case on:
		names = slices.Insert(names, i, eventName)
	default:
		names = slices.Delete(names, i, i+1)
	}
	if len(names) == 0 {
		delete(e.subs, userID)
	} else {
		e.subs[userID] = names
	}
	subs := make([]skill.Subscription, len(names))
	for i, n := range names {
		subs[i] = skill.Subscription{EventName: n}
	}
	return true, e.sk.prepare(userID, &skill.ProactiveSubscriptionChanged{Body: skill.SubscriptionsBody{Subscriptions: subs}}), nil
}

// notSubscribed answers the 403 Alexa gives a Unicast event to a user who
// has not subscribed to its name.
func notSubscribed(w http.ResponseWriter, userID, eventName string) {
	apiError(w, http.StatusForbidden, alexa.ReasonNotSubscribed, fmt.Sprintf(
		"the user %s has not subscribed to %s events of this skill; Alexa refuses Unicast events until the user subscribes "+
			"(emulator: alexa-oos emulator subscribe, or --allow-unsubscribed)", userID, eventName), nil)
}

// SubscriptionChange is the JSON body of POST /_emulator/subscriptions.
type SubscriptionChange struct {
	UserID    string `json:"userId"`
	EventName string `json:"eventName"`
	// Subscribed true subscribes, false unsubscribes.
	Subscribed *bool `json:"subscribed"`
}

// SubscriptionResult is the answer of POST /_emulator/subscriptions: the
// user's subscriptions now, whether they changed, and the request sent to
// the skill about it, once answered (absent when nothing was sent).
type SubscriptionResult struct {
	Subscription
	Changed  bool           `json:"changed"`
	Delivery *SkillDelivery `json:"delivery,omitempty"`
}

func (e *Emulator) subscriptionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+AdminSubscriptions, func(w http.ResponseWriter, r *http.Request) {
		q, ok := parseList(w, r, "user")
		if !ok {
			return
		}
		e.mu.Lock()
		items := e.subs.list(q.Get("user"))
		e.mu.Unlock()
		writeJSON(w, Listing[Subscription]{Items: items})
	})
	mux.HandleFunc("POST "+AdminSubscriptions, func(w http.ResponseWriter, r *http.Request) {
		var c SubscriptionChange
		if !decodeAdmin(w, r, &c) {
			return
		}
		if c.Subscribed == nil {
			invalid(w, validate.Violations{{Field: "subscribed", Rule: "is required: true to subscribe, false to unsubscribe"}}.Err(""))
			return
		}
		changed, j, err := e.setSubscription("", c.UserID, c.EventName, *c.Subscribed)
		if err != nil {
			invalid(w, err)
			return
		}
		e.sk.enqueue(j)
		out := SubscriptionResult{Changed: changed}
		if j != nil {
			d := e.sk.wait(r.Context(), j)
			out.Delivery = &d
		}
		e.mu.Lock()
		out.Subscription = Subscription{UserID: c.UserID, EventNames: slices.Clone(e.subs[c.UserID])}
		e.mu.Unlock()
		if out.EventNames == nil {
			out.EventNames = []string{}
		}
		writeJSON(w, out)
	})
}

// decodeAdmin decodes an admin request's JSON body into v, refusing
// unknown fields so that a mistyped one is never ignored; it answers 400
// and reports false when it cannot.
func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		invalid(w, fmt.Errorf("body: must be one JSON object of the documented fields: %v", err))
		return false
	}
	if dec.More() {
		invalid(w, fmt.Errorf("body: must be one JSON object, with nothing after it"))
		return false
	}
	return true
}
