package datastore

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/alexa-oos/alexa"
)

// Error types of the DataStore API: the "type" of its {"type","message"}
// error bodies, found in alexa.Error.Code.
const (
	// ErrorPayloadExceedsLimit: the commands are too large (400).
	ErrorPayloadExceedsLimit = "COMMANDS_PAYLOAD_EXCEEDS_LIMIT"
	// ErrorTooManyTargets: the target lists too many devices (400).
	ErrorTooManyTargets = "TOO_MANY_TARGETS"
	// ErrorNoTargetDefined: the request has no target (400).
	ErrorNoTargetDefined = "NO_TARGET_DEFINED"
	// ErrorInvalidRequest: the body does not follow the schema (400).
	ErrorInvalidRequest = "INVALID_REQUEST"
	// ErrorInvalidAccessToken: the token is expired or invalid (401).
	ErrorInvalidAccessToken = "INVALID_ACCESS_TOKEN"
	// ErrorSupportRequired: the skill's manifest does not declare the
	// DataStore interface (403).
	ErrorSupportRequired = "DATASTORE_SUPPORT_REQUIRED"
	// ErrorTooManyRequests: more than 25 writes per second (429).
	ErrorTooManyRequests = "TOO_MANY_REQUESTS"
	// ErrorUnavailable: DataStore failed (5xx).
	ErrorUnavailable = "DATASTORE_UNAVAILABLE"
	// ErrorNotFound: no queued request has this queuedResultId (404).
	ErrorNotFound = "NOT_FOUND"
	// ErrorCommandsDelivered: cancel came after every delivery was made.
	ErrorCommandsDelivered = "COMMANDS_DELIVERED"
	// ErrorConcurrency: the queued deliveries were being made as cancel
	// arrived.
	ErrorConcurrency = "CONCURRENCY_ERROR"
)

// Sentinels of the DataStore failures a caller acts on. Errors of this
// package match them with errors.Is, and still unwrap to *alexa.Error (or
// *alexa.ValidationError) with errors.As. Throttling (429) matches
// alexa.ErrThrottled, an unknown queuedResultId alexa.ErrNotFound.
var (
	// ErrPayloadTooLarge: the commands exceed Limits.MaxPayloadBytes (the
	// request was not sent) or Alexa answered COMMANDS_PAYLOAD_EXCEEDS_LIMIT.
	ErrPayloadTooLarge = errors.New("datastore: commands payload exceeds the limit")
	// ErrSupportRequired: the skill's manifest lacks the DataStore
	// interface (ALEXA_DATA_STORE), so Alexa refuses every call.
	ErrSupportRequired = errors.New("datastore: the skill does not declare DataStore support")
	// ErrTooManyTargets: Alexa refused the number of target devices.
	ErrTooManyTargets = errors.New("datastore: too many target devices")
	// ErrCommandsDelivered: Cancel came too late, every delivery was made.
	ErrCommandsDelivered = errors.New("datastore: the queued commands were already delivered")
)

// apiError is an *alexa.Error of the DataStore API: it matches this
// package's sentinels by error type and gives DataStore's hints.
type apiError struct{ err *alexa.Error }

func (e *apiError) Unwrap() error { return e.err }

func (e *apiError) Is(target error) bool {
	switch target {
	case ErrPayloadTooLarge:
		return e.err.Code == ErrorPayloadExceedsLimit
	case ErrSupportRequired:
		return e.err.Code == ErrorSupportRequired
	case ErrTooManyTargets:
		return e.err.Code == ErrorTooManyTargets
	case ErrCommandsDelivered:
		return e.err.Code == ErrorCommandsDelivered
	}
	return false
}

// Error is the *alexa.Error's one line.
func (e *apiError) Error() string { return e.err.Error() }

// Hint is DataStore's hint for the error: what usually causes it.
func (e *apiError) Hint() string { return Hint(e.err) }

// Hint says what usually causes a DataStore error, or "". The errors of
// this package's Client give it with their own Hint method too:
//
//	var h interface{ Hint() string }
//	if errors.As(err, &h) { log.Print(h.Hint()) }
func Hint(e *alexa.Error) string {
	switch e.Code {
	case ErrorPayloadExceedsLimit:
		return "send fewer or smaller objects per call; a skill stores at most 1 MB per device, namespace and key names counted"
	case ErrorTooManyTargets:
		return "split the devices over several calls, or target the user"
	case ErrorNoTargetDefined:
		return "give a USER target with the userId or a DEVICES target with deviceIds"
	case ErrorSupportRequired:
		return "declare the ALEXA_DATA_STORE interface in the skill manifest (apis.custom.interfaces) and deploy the skill"
	case ErrorInvalidAccessToken:
		return "the token was refused even after a fresh one was fetched: check that the credentials are the skill's Alexa client id and secret"
	case ErrorCommandsDelivered:
		return "nothing is left to cancel: every queued delivery was made"
	case ErrorNotFound:
		return "no queued commands have this queuedResultId, or they expired"
	case ErrorConcurrency:
		return "the deliveries were under way; try again"
	case ErrorUnavailable:
		return "DataStore failed on Alexa's side; try again later"
	}
	switch e.StatusCode {
	case http.StatusTooManyRequests:
		return fmt.Sprintf("throttled: DataStore takes at most %d writes per second per skill", WritesPerSecond)
	case http.StatusNotFound:
		return "no queued commands have this queuedResultId, or they expired"
	case http.StatusUnauthorized, http.StatusForbidden:
		return e.Hint()
	}
	return ""
}

// wrap gives an *alexa.Error this package's sentinels and hints.
func wrap(err error) error {
	var ae *alexa.Error
	if errors.As(err, &ae) {
		return &apiError{ae}
	}
	return err
}

// refusedError is a request refused before sending for a reason Alexa
// has an error type for (ErrorPayloadExceedsLimit, ErrorTooManyTargets):
// it matches the same sentinel as Alexa's answer would.
type refusedError struct {
	*alexa.ValidationError
	typ string
}

func (e *refusedError) Unwrap() error { return e.ValidationError }

func (e *refusedError) Is(target error) bool {
	switch target {
	case ErrPayloadTooLarge:
		return e.typ == ErrorPayloadExceedsLimit
	case ErrTooManyTargets:
		return e.typ == ErrorTooManyTargets
	}
	return false
}
