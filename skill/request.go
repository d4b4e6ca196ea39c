package skill

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Request types this package decodes into their own Go types. Any other
// type decodes to *Other.
const (
	TypeMessageReceived              = "Messaging.MessageReceived"
	TypeProactiveSubscriptionChanged = "AlexaSkillEvent.ProactiveSubscriptionChanged"
	TypeSkillPermissionAccepted      = "AlexaSkillEvent.SkillPermissionAccepted"
	TypeSkillPermissionChanged       = "AlexaSkillEvent.SkillPermissionChanged"
	TypeSkillEnabled                 = "AlexaSkillEvent.SkillEnabled"
	TypeSkillDisabled                = "AlexaSkillEvent.SkillDisabled"
	TypeSkillAccountLinked           = "AlexaSkillEvent.SkillAccountLinked"
	TypeAuthorizationGrant           = "Alexa.Authorization.Grant"
	TypeDataStoreError               = "Alexa.DataStore.Error"
)

// GrantTypeAuthorizationCode is the only grant type Alexa sends in an
// Alexa.Authorization.Grant request.
const GrantTypeAuthorizationCode = "OAuth2.AuthorizationCode"

// Envelope is the outer JSON object of every request Alexa sends a skill.
// Out-of-session requests carry no session.
type Envelope struct {
	Version string   `json:"version"`
	Session *Session `json:"session,omitempty"`
	Context Context  `json:"context"`
	// Request is the request object as it arrived; Decode turns it into
	// one of this package's request types.
	Request json.RawMessage `json:"request"`
}

// Session is the session of an in-session request.
type Session struct {
	New         bool           `json:"new"`
	SessionID   string         `json:"sessionId"`
	Application Application    `json:"application"`
	User        User           `json:"user"`
	Attributes  map[string]any `json:"attributes,omitempty"`
}

// Context holds what Alexa knows of the device and user.
type Context struct {
	System System `json:"System"`
}

// System identifies the skill and the user, and gives the endpoint and
// token for calling Alexa APIs on the user's behalf.
type System struct {
	Application Application `json:"application"`
	User        User        `json:"user"`
	Device      *Device     `json:"device,omitempty"`
	// APIEndpoint is the Alexa API host for this user's region, such as
	// https://api.amazonalexa.com.
	APIEndpoint string `json:"apiEndpoint,omitempty"`
	// APIAccessToken lets the skill call Alexa APIs (Reminders, Lists, …)
	// for this user for about an hour. Do not store it. Printing a System
	// hides it.
	APIAccessToken Secret `json:"apiAccessToken,omitempty"`
}

// Application identifies the skill.
type Application struct {
	ApplicationID string `json:"applicationId"`
}

// User identifies the customer.
type User struct {
	UserID string `json:"userId"`
	// AccessToken is the account-linking token, when the skill uses
	// account linking.
	AccessToken Secret `json:"accessToken,omitempty"`
}

// Device identifies the device, when the request comes from one.
type Device struct {
	DeviceID string `json:"deviceId"`
}

// Secret is a token as it travels in a request. It encodes as itself in
// JSON (it is part of the wire format), but fmt and log/slog show it as
// "[redacted]", so logging a request never leaks it.
type Secret string

// String hides the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString hides the secret.
func (s Secret) GoString() string { return fmt.Sprintf("skill.Secret(%q)", s.String()) }

// Format makes every fmt verb hide the secret.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.String())
}

// LogValue hides the secret from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Request is one decoded request: a *MessageReceived,
// *ProactiveSubscriptionChanged, *SkillPermissionAccepted,
// *SkillPermissionChanged, *SkillEnabled, *SkillDisabled,
// *AuthorizationGrant, *DataStoreError or *Other.
type Request interface {
	// Info returns the fields every request carries.
	Info() *Common
}

// Common holds the fields every request carries, and the envelope it came
// in. Each request type embeds it.
type Common struct {
	// Type is the request type, such as "Messaging.MessageReceived".
	Type string `json:"type"`
	// RequestID identifies the request; Alexa may deliver a request more
	// than once with the same id.
	RequestID string `json:"requestId"`
	// Timestamp is when Alexa sent the request. Skill events can arrive
	// out of order: compare timestamps to keep the latest state.
	Timestamp time.Time `json:"timestamp"`
	// Locale is the user's locale, such as "en-US", when Alexa gives one.
	Locale string `json:"locale,omitempty"`
	// Envelope is the whole request as it arrived.
	Envelope *Envelope `json:"-"`
}

// Info returns c.
func (c *Common) Info() *Common { return c }

func (c *Common) system() System {
	if c.Envelope == nil {
		return System{}
	}
	return c.Envelope.Context.System
}

// UserID is the customer's userId from context.System.user.
func (c *Common) UserID() string { return c.system().User.UserID }

// ApplicationID is the skill's id from context.System.application.
func (c *Common) ApplicationID() string { return c.system().Application.ApplicationID }

// APIEndpoint is the Alexa API host for this user's region.
func (c *Common) APIEndpoint() string { return c.system().APIEndpoint }

// APIAccessToken is the token for calling Alexa APIs for this user, valid
// for about an hour.
func (c *Common) APIAccessToken() string { return string(c.system().APIAccessToken) }

// MessageReceived is a Messaging.MessageReceived request: a skill message
// sent with the messaging package arriving at the skill.
type MessageReceived struct {
	Common
	// Message is the message's data, exactly as it was sent.
	Message json.RawMessage `json:"message,omitempty"`
}

// DecodeMessage decodes the message's data into v, as json.Unmarshal.
func (r *MessageReceived) DecodeMessage(v any) error {
	if len(r.Message) == 0 {
		return errors.New("skill: MessageReceived has no message")
	}
	return json.Unmarshal(r.Message, v)
}

// ProactiveSubscriptionChanged is an
// AlexaSkillEvent.ProactiveSubscriptionChanged request: the user's
// subscriptions to the skill's proactive events changed. Until a user
// subscribes, Alexa refuses unicast events to them with 403.
type ProactiveSubscriptionChanged struct {
	Common
	Body SubscriptionsBody `json:"body"`
}

// SubscriptionsBody lists every event the user is now subscribed to.
type SubscriptionsBody struct {
	// Subscriptions are the user's current subscriptions; empty when the
	// user unsubscribed from all.
	Subscriptions []Subscription `json:"subscriptions"`
}

// Subscription is one subscribed event.
type Subscription struct {
	// EventName is the schema name, such as "AMAZON.MessageAlert.Activated".
	EventName string `json:"eventName"`
}

// EventNames returns the names of the events the user is subscribed to,
// empty when they unsubscribed from all.
func (r *ProactiveSubscriptionChanged) EventNames() []string {
	names := make([]string, 0, len(r.Body.Subscriptions))
	for _, s := range r.Body.Subscriptions {
		names = append(names, s.EventName)
	}
	return names
}

// EventTimes are the times Alexa reports on skill events.
type EventTimes struct {
	EventCreationTime   time.Time `json:"eventCreationTime,omitzero"`
	EventPublishingTime time.Time `json:"eventPublishingTime,omitzero"`
}

// PermissionBody lists the permissions the user has now granted.
type PermissionBody struct {
	AcceptedPermissions []Permission `json:"acceptedPermissions"`
	// AcceptedPersonPermissions are permissions granted by a recognised
	// person rather than the account holder. The name follows Amazon's
	// documentation of skill events; older request models lack it.
	AcceptedPersonPermissions []Permission `json:"acceptedPersonPermissions,omitempty"`
}

// Permission is one granted permission.
type Permission struct {
	// Scope is the permission, such as "alexa::alerts:reminders:skill:readwrite".
	Scope string `json:"scope"`
}

// Scopes returns the scopes of every accepted permission.
func (b PermissionBody) Scopes() []string {
	out := make([]string, 0, len(b.AcceptedPermissions)+len(b.AcceptedPersonPermissions))
	for _, p := range b.AcceptedPermissions {
		out = append(out, p.Scope)
	}
	for _, p := range b.AcceptedPersonPermissions {
		out = append(out, p.Scope)
	}
	return out
}

// SkillPermissionAccepted is an AlexaSkillEvent.SkillPermissionAccepted
// request: the user granted the skill's permissions for the first time.
type SkillPermissionAccepted struct {
	Common
	EventTimes
	Body PermissionBody `json:"body"`
}

// SkillPermissionChanged is an AlexaSkillEvent.SkillPermissionChanged
// request: the user changed the permissions granted to the skill.
type SkillPermissionChanged struct {
	Common
	EventTimes
	Body PermissionBody `json:"body"`
}

// SkillEnabled is an AlexaSkillEvent.SkillEnabled request.
type SkillEnabled struct {
	Common
	EventTimes
}

// SkillDisabled is an AlexaSkillEvent.SkillDisabled request. The userId
// stops being valid for the skill.
type SkillDisabled struct {
	Common
	EventTimes
	// Body is present when Alexa says whether the user's data persists.
	Body *SkillDisabledBody `json:"body,omitempty"`
}

// SkillDisabledBody says whether the user's data persists after the skill
// was disabled.
type SkillDisabledBody struct {
	// UserInformationPersistenceStatus is "PERSISTED" or "NOT_PERSISTED".
	// The name follows Amazon's documentation of skill events; Amazon's
	// request models do not confirm it.
	UserInformationPersistenceStatus string `json:"userInformationPersistenceStatus,omitempty"`
}

// AuthorizationGrant is an Alexa.Authorization.Grant request: the user
// granted a permission the skill uses out of session, and the code can be
// exchanged with LWA for the user's access and refresh tokens (see
// lwa.UserTokens and StoreGrant).
type AuthorizationGrant struct {
	Common
	Body GrantBody `json:"body"`
}

// GrantBody carries the grant.
type GrantBody struct {
	Grant Grant `json:"grant"`
}

// Grant is an authorization code for the user.
type Grant struct {
	// Type is GrantTypeAuthorizationCode.
	Type string `json:"type"`
	// Code is the authorization code, valid for one exchange. Printing a
	// Grant hides it.
	Code Secret `json:"code"`
}

// DataStoreError is an Alexa.DataStore.Error request: DataStore commands
// the skill sent could not be delivered or executed on a device. It is a
// request the skill receives, not a Go error.
type DataStoreError struct {
	Common
	Error DataStoreErrorInfo `json:"error"`
}

// DataStoreErrorInfo says what failed.
type DataStoreErrorInfo struct {
	// Type is DEVICE_UNAVAILABLE, DEVICE_PERMANENTLY_UNAVAILABLE,
	// DATASTORE_INTERNAL_ERROR or STORAGE_LIMIT_EXCEEDED.
	Type    string           `json:"type"`
	Content DataStoreContent `json:"content"`
}

// DataStoreContent is the content of a DataStore error: Commands for a
// failed dispatch, FailedCommand and Message for a failed execution.
type DataStoreContent struct {
	DeviceID      string          `json:"deviceId,omitempty"`
	Commands      json.RawMessage `json:"commands,omitempty"`
	FailedCommand json.RawMessage `json:"failedCommand,omitempty"`
	Message       string          `json:"message,omitempty"`
}

// Other is a request of a type this package has no Go type for, such as
// an in-session LaunchRequest.
type Other struct {
	Common
	// Raw is the request object as it arrived.
	Raw json.RawMessage `json:"-"`
}

// DecodeError is a request body that is not a well-formed Alexa request.
type DecodeError struct {
	// Field is the JSON path of the offending field, such as
	// "request.timestamp", or "" when the body is not JSON at all.
	Field string
	// Err is the underlying error.
	Err error
}

// Error names the field and the problem.
func (e *DecodeError) Error() string {
	if e.Field == "" {
		return "skill: request body: " + e.Err.Error()
	}
	return "skill: request body: " + e.Field + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *DecodeError) Unwrap() error { return e.Err }

// Decode decodes a request body into its envelope and one of this
// package's request types (an *Other for types it has no Go type for).
// An error is a *DecodeError. Decode does not verify the request: use a
// Verifier (or Handler, which does both) on requests from the network.
func Decode(body []byte) (Request, error) {
	env, c, err := decodeCommon(body)
	if err != nil {
		return nil, err
	}
	var r Request
	switch c.Type {
	case TypeMessageReceived:
		r = &MessageReceived{}
	case TypeProactiveSubscriptionChanged:
		r = &ProactiveSubscriptionChanged{}
	case TypeSkillPermissionAccepted:
		r = &SkillPermissionAccepted{}
	case TypeSkillPermissionChanged:
		r = &SkillPermissionChanged{}
	case TypeSkillEnabled:
		r = &SkillEnabled{}
	case TypeSkillDisabled:
		r = &SkillDisabled{}
	case TypeAuthorizationGrant:
		r = &AuthorizationGrant{}
	case TypeDataStoreError:
		r = &DataStoreError{}
	default:
		return &Other{Common: c, Raw: env.Request}, nil
	}
	if err := json.Unmarshal(env.Request, r); err != nil {
		return nil, &DecodeError{Field: fieldOf("request", err), Err: err}
	}
	*r.Info() = c
	return r, nil
}

// head is what the verifier and the router need before the request type
// is known.
type head struct {
	Type      string          `json:"type"`
	RequestID string          `json:"requestId"`
	Timestamp json.RawMessage `json:"timestamp"`
	Locale    string          `json:"locale"`
}

// decodeCommon decodes the envelope and the fields every request has.
func decodeCommon(body []byte) (*Envelope, Common, error) {
	var env Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, Common{}, &DecodeError{Field: fieldOf("", err), Err: err}
	}
	if len(env.Request) == 0 || bytes.Equal(env.Request, []byte("null")) {
		return nil, Common{}, &DecodeError{Field: "request", Err: errors.New("is required")}
	}
	var h head
	if err := json.Unmarshal(env.Request, &h); err != nil {
		return nil, Common{}, &DecodeError{Field: fieldOf("request", err), Err: err}
	}
	if h.Type == "" {
		return nil, Common{}, &DecodeError{Field: "request.type", Err: errors.New("is required")}
	}
	ts, err := parseTimestamp(h.Timestamp)
	if err != nil {
		return nil, Common{}, &DecodeError{Field: "request.timestamp", Err: err}
	}
	return &env, Common{Type: h.Type, RequestID: h.RequestID, Timestamp: ts, Locale: h.Locale, Envelope: &env}, nil
}

// parseTimestamp reads an RFC 3339 timestamp with any number of
// fractional digits and a Z or an offset, as Alexa sends it.
func parseTimestamp(raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return time.Time{}, errors.New("is required")
	}
	// time.Time's own decoder, so that decoding the typed request later
	// accepts exactly what was accepted here.
	var t time.Time
	if err := t.UnmarshalJSON(raw); err != nil {
		return time.Time{}, fmt.Errorf("must be an RFC 3339 string such as \"2026-01-02T15:04:05Z\" (got %s)", truncate(string(raw), 40))
	}
	return t, nil
}

// fieldOf names the field a json error is about, under prefix: "a.b",
// prefix alone, or "".
func fieldOf(prefix string, err error) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field == "" {
		return prefix
	}
	if prefix == "" {
		return te.Field
	}
	return prefix + "." + te.Field
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Encode returns the JSON body of a request as Alexa sends it: version
// "1.0", c as its context and r as its request. A request whose Type is
// empty gets the type of its Go type. It is what a test (or an emulator)
// uses to build requests.
func Encode(c Context, r Request) ([]byte, error) {
	if info := r.Info(); info.Type == "" {
		info.Type = typeOf(r)
	}
	var raw json.RawMessage
	if o, ok := r.(*Other); ok && len(o.Raw) > 0 {
		raw = o.Raw
	} else {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	return json.Marshal(Envelope{Version: "1.0", Context: c, Request: raw})
}

func typeOf(r Request) string {
	switch r.(type) {
	case *MessageReceived:
		return TypeMessageReceived
	case *ProactiveSubscriptionChanged:
		return TypeProactiveSubscriptionChanged
	case *SkillPermissionAccepted:
		return TypeSkillPermissionAccepted
	case *SkillPermissionChanged:
		return TypeSkillPermissionChanged
	case *SkillEnabled:
		return TypeSkillEnabled
	case *SkillDisabled:
		return TypeSkillDisabled
	case *AuthorizationGrant:
		return TypeAuthorizationGrant
	case *DataStoreError:
		return TypeDataStoreError
	}
	return ""
}
