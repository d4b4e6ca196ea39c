package datastore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The wire form below is that of Amazon's ask_sdk_model.services.datastore
// (Python) and services.datastore.v1 (Node, Java): CommandsRequest
// {commands, target, attemptDeliveryUntil}, commands and targets
// discriminated by "type", CommandsResponse {results, queuedResultId},
// CommandsDispatchResult {deviceId, type, message}, QueuedResultResponse
// {items, paginationContext{totalCount, previousToken, nextToken}}, and
// errors {type, message}. Fields are sent only when set, as those SDKs do.

// CommandType discriminates a Command.
type CommandType string

// The command types of the DataStore API.
const (
	TypePutNamespace    CommandType = "PUT_NAMESPACE"
	TypePutObject       CommandType = "PUT_OBJECT"
	TypeRemoveNamespace CommandType = "REMOVE_NAMESPACE"
	TypeRemoveObject    CommandType = "REMOVE_OBJECT"
	TypeClear           CommandType = "CLEAR"
)

// Command is one change to a device's data store. Build it with
// PutNamespace, PutObject, RemoveNamespace, RemoveObject or Clear; a
// literal works too and is checked the same way before sending.
type Command struct {
	Type CommandType `json:"type"`
	// Namespace is required by every type but CLEAR.
	Namespace string `json:"namespace,omitempty"`
	// Key is required by PUT_OBJECT and REMOVE_OBJECT.
	Key string `json:"key,omitempty"`
	// Content is the object a PUT_OBJECT stores, as JSON: any JSON value
	// but null.
	Content json.RawMessage `json:"content,omitempty"`

	// contentErr is why PutObject could not encode its content; it is
	// reported when the command is checked.
	contentErr error
}

// PutNamespace creates namespace, if it does not exist yet.
func PutNamespace(namespace string) Command {
	return Command{Type: TypePutNamespace, Namespace: namespace}
}

// PutObject stores content under key in namespace, replacing what was
// there. Content is any value that encodes to JSON (a map, a struct, a
// string, a number, a slice); a json.RawMessage is taken as it is, and
// compacted. A content that cannot be encoded is reported when the command
// is checked, before anything is sent. Content is encoded here, with
// encoding/json, since the command exists before any client: to encode it
// with another library, pass the json.RawMessage it makes.
func PutObject(namespace, key string, content any) Command {
	c := Command{Type: TypePutObject, Namespace: namespace, Key: key}
	c.Content, c.contentErr = encodeContent(content)
	return c
}

// RemoveNamespace deletes namespace and every object in it.
func RemoveNamespace(namespace string) Command {
	return Command{Type: TypeRemoveNamespace, Namespace: namespace}
}

// RemoveObject deletes the object under key in namespace.
func RemoveObject(namespace, key string) Command {
	return Command{Type: TypeRemoveObject, Namespace: namespace, Key: key}
}

// Clear deletes everything the skill stored on the device.
func Clear() Command { return Command{Type: TypeClear} }

func encodeContent(content any) (json.RawMessage, error) {
	switch v := content.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return compact(v)
	}
	b, err := json.Marshal(content)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func compact(raw []byte) (json.RawMessage, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TargetType discriminates a Target.
type TargetType string

// The target types of the DataStore API.
const (
	TargetUser    TargetType = "USER"
	TargetDevices TargetType = "DEVICES"
)

// Target says which devices the commands go to: every device of one
// customer (User) or a list of devices (Devices).
type Target struct {
	Type TargetType `json:"type"`
	// ID is the userId of a USER target.
	ID string `json:"id,omitempty"`
	// Items are the deviceIds of a DEVICES target.
	Items []string `json:"items,omitempty"`
}

// User targets every device of the customer with userID, the userId the
// skill sees in its requests.
func User(userID string) Target { return Target{Type: TargetUser, ID: userID} }

// Devices targets the devices with deviceIDs, the deviceIds the skill sees
// in its requests (context.System.device.deviceId).
func Devices(deviceIDs ...string) Target {
	return Target{Type: TargetDevices, Items: deviceIDs}
}

// String describes the target for messages: "user U" or "devices A, B".
func (t Target) String() string {
	switch t.Type {
	case TargetUser:
		return "user " + t.ID
	case TargetDevices:
		return "devices " + strings.Join(t.Items, ", ")
	}
	return fmt.Sprintf("target %q", string(t.Type))
}

// Request is the body of a commands call: Amazon's CommandsRequest.
type Request struct {
	Commands []Command `json:"commands"`
	Target   Target    `json:"target"`
	// AttemptDeliveryUntil is when Alexa stops trying to deliver to
	// offline devices, as ISO-8601 text; empty leaves it to Alexa.
	AttemptDeliveryUntil string `json:"attemptDeliveryUntil,omitempty"`
}

// FormatTime renders t as attemptDeliveryUntil expects: ISO-8601 in UTC
// with milliseconds, as Amazon's SDKs and JavaScript's toISOString write it.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// ParseTime reads an ISO-8601 date and time with a zone (Z or ±hh:mm),
// with or without fractional seconds.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("must be an ISO-8601 date and time with a zone, such as 2026-11-25T18:30:00Z")
	}
	return t, nil
}

// DispatchType is the outcome of a delivery to one device.
type DispatchType string

// The dispatch outcomes of the DataStore API.
const (
	// Success: the device received the commands.
	Success DispatchType = "SUCCESS"
	// InvalidDevice: the device cannot process the commands (no screen,
	// or not this customer's).
	InvalidDevice DispatchType = "INVALID_DEVICE"
	// DeviceUnavailable: the device is offline; when a queuedResultId is
	// returned, Alexa keeps trying until attemptDeliveryUntil.
	DeviceUnavailable DispatchType = "DEVICE_UNAVAILABLE"
	// DevicePermanentlyUnavailable: the device is no longer registered;
	// stop sending to it.
	DevicePermanentlyUnavailable DispatchType = "DEVICE_PERMANENTLY_UNAVAILABLE"
	// ConcurrencyError: another update of the same device was under way.
	ConcurrencyError DispatchType = "CONCURRENCY_ERROR"
	// InternalError: the dispatch failed; Message says why.
	InternalError DispatchType = "INTERNAL_ERROR"
	// PendingRequestCountExceedsLimit: too many deliveries are already
	// queued for the device.
	PendingRequestCountExceedsLimit DispatchType = "PENDING_REQUEST_COUNT_EXCEEDS_LIMIT"
)

// DispatchResult is the outcome for one device: Amazon's
// CommandsDispatchResult.
type DispatchResult struct {
	DeviceID string       `json:"deviceId"`
	Type     DispatchType `json:"type"`
	// Message describes a failure; Alexa may leave it out.
	Message string `json:"message,omitempty"`
}

// Delivered reports whether the device received the commands.
func (r DispatchResult) Delivered() bool { return r.Type == Success }

// Response is the answer to a commands call: Amazon's CommandsResponse.
type Response struct {
	// Results hold one outcome per device.
	Results []DispatchResult `json:"results"`
	// QueuedResultID is set when some device was offline and Alexa keeps
	// trying until attemptDeliveryUntil: follow it with QueuedResult, stop
	// it with Cancel.
	QueuedResultID string `json:"queuedResultId,omitempty"`
	// Attempts is how many HTTP attempts the call made.
	Attempts int `json:"-"`
}

// Failed returns the results that are neither delivered nor queued for a
// later delivery: what needs the caller's attention.
func (r *Response) Failed() []DispatchResult {
	var out []DispatchResult
	for _, d := range r.Results {
		if d.Type == Success || (d.Type == DeviceUnavailable && r.QueuedResultID != "") {
			continue
		}
		out = append(out, d)
	}
	return out
}

// Page selects one page of queued results. The zero value is the first
// page of the server's default size.
type Page struct {
	// MaxResults is the page size; zero leaves it to the server.
	MaxResults int
	// NextToken is the PaginationContext.NextToken of the previous page;
	// empty for the first page.
	NextToken string
}

// PaginationContext locates a page among the queued results.
type PaginationContext struct {
	// TotalCount is how many results there are, on every page together.
	TotalCount int `json:"totalCount"`
	// PreviousToken is absent on the first page.
	PreviousToken string `json:"previousToken,omitempty"`
	// NextToken is absent on the last page.
	NextToken string `json:"nextToken,omitempty"`
}

// QueuedResults is one page of the deliveries of a queued request that
// have not succeeded: Amazon's QueuedResultResponse.
type QueuedResults struct {
	Items             []DispatchResult  `json:"items"`
	PaginationContext PaginationContext `json:"paginationContext"`
}
