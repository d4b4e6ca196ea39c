package datastore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/validate"
)

// Limits are the rules a commands request is checked against before it is
// sent; the emulator checks with the same ones. A zero field takes its
// default, so the zero Limits are DefaultLimits().
//
// Only the 1 MB of stored data per device and the 25 writes per second are
// documented by Amazon. The other values are not documented: they are
// generous guesses, so that a request this package refuses would surely be
// refused by Alexa; raise them if Alexa accepts more.
type Limits struct {
	// MaxPayloadBytes bounds the commands of one request, as compact JSON
	// (Alexa's COMMANDS_PAYLOAD_EXCEEDS_LIMIT). Default 1 MiB: no request
	// can store more than a device holds.
	MaxPayloadBytes int
	// MaxStoreBytes bounds what the skill stores on one device, namespace
	// and key names counted (documented: 1 MB). The emulator enforces it.
	MaxStoreBytes int
	// MaxDevices bounds the items of a DEVICES target (Alexa's
	// TOO_MANY_TARGETS). Not documented; default 20.
	MaxDevices int
	// MaxCommands bounds the commands of one request. Not documented;
	// default 100.
	MaxCommands int
	// MaxNameLength bounds a namespace or key, in characters. Not
	// documented; default 1024.
	MaxNameLength int
	// MaxResults bounds the page size of queued results. Not documented;
	// default 100.
	MaxResults int
}

// Default values of Limits.
const (
	DefaultMaxPayloadBytes = 1 << 20
	DefaultMaxStoreBytes   = 1 << 20
	DefaultMaxDevices      = 20
	DefaultMaxCommands     = 100
	DefaultMaxNameLength   = 1024
	DefaultMaxResults      = 100
	// WritesPerSecond is Alexa's documented limit of commands calls per
	// skill; more are answered 429 TOO_MANY_REQUESTS.
	WritesPerSecond = 25
)

// DefaultLimits returns the limits a Client checks by default: the zero
// Limits with their defaults filled in. Each call returns a new value.
func DefaultLimits() Limits { return Limits{}.WithDefaults() }

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxPayloadBytes, DefaultMaxPayloadBytes)
	def(&l.MaxStoreBytes, DefaultMaxStoreBytes)
	def(&l.MaxDevices, DefaultMaxDevices)
	def(&l.MaxCommands, DefaultMaxCommands)
	def(&l.MaxNameLength, DefaultMaxNameLength)
	def(&l.MaxResults, DefaultMaxResults)
	return l
}

// Validate checks r and returns an *alexa.ValidationError listing every
// violation, or nil. An attemptDeliveryUntil must lie after now. When the
// payload is too large, or the target has too many devices, the error
// also matches ErrPayloadTooLarge or ErrTooManyTargets, as Alexa's answer
// would.
func (l Limits) Validate(r *Request) error {
	vs, typ := l.Check(r, time.Now())
	if len(vs) == 0 {
		return nil
	}
	err := &alexa.ValidationError{Op: opCommands, Violations: vs}
	if typ == ErrorPayloadExceedsLimit || typ == ErrorTooManyTargets {
		return &refusedError{err, typ}
	}
	return err
}

// Check returns every violation of r in field order, and the error type
// Alexa answers such a request with (ErrorPayloadExceedsLimit,
// ErrorTooManyTargets, ErrorNoTargetDefined or ErrorInvalidRequest), or
// "" when r is valid. A zero now skips the check that attemptDeliveryUntil
// lies in the future.
func (l Limits) Check(r *Request, now time.Time) ([]alexa.Violation, string) {
	l = l.WithDefaults()
	var vs validate.Violations
	var payload, targets, noTarget bool
	if r == nil {
		r = &Request{}
	}

	switch n := len(r.Commands); {
	case n == 0:
		vs.Add("commands", "needs at least one command", nil)
	case n > l.MaxCommands:
		addCount(&vs, "commands", fmt.Sprintf("must hold at most %d commands", l.MaxCommands), n, "commands")
	}
	for i, c := range r.Commands {
		l.checkCommand(&vs, fmt.Sprintf("commands[%d]", i), c)
	}
	if size := payloadSize(r.Commands); size > l.MaxPayloadBytes {
		addCount(&vs, "commands", fmt.Sprintf("must be at most %d bytes as compact JSON", l.MaxPayloadBytes), size, "bytes")
		payload = true
	}

	t := r.Target
	switch t.Type {
	case "":
		vs.Add("target.type", "is required: USER or DEVICES", nil)
		noTarget = true
	case TargetUser:
		if t.ID == "" {
			vs.Add("target.id", "is required for a USER target: the userId the skill sees in its requests", nil)
			noTarget = true
		}
		if len(t.Items) > 0 {
			addCount(&vs, "target.items", "must be empty for a USER target (items belong to DEVICES)", len(t.Items), "items")
		}
	case TargetDevices:
		if t.ID != "" {
			vs.Add("target.id", "must be empty for a DEVICES target (id belongs to USER)", t.ID)
		}
		switch n := len(t.Items); {
		case n == 0:
			vs.Add("target.items", "needs at least one deviceId", nil)
			noTarget = true
		case n > l.MaxDevices:
			addCount(&vs, "target.items", fmt.Sprintf("must hold at most %d deviceIds", l.MaxDevices), n, "deviceIds")
			targets = true
		}
		for i, id := range t.Items {
			if id == "" {
				vs.Add(fmt.Sprintf("target.items[%d]", i), "must not be empty", nil)
			}
		}
	default:
		vs.Add("target.type", "must be USER or DEVICES", string(t.Type))
	}

	if s := r.AttemptDeliveryUntil; s != "" {
		at, err := ParseTime(s)
		switch {
		case err != nil:
			vs.Add("attemptDeliveryUntil", err.Error(), s)
		case !now.IsZero() && !at.After(now):
			vs.Add("attemptDeliveryUntil", "must lie in the future", s)
		}
	}

	if len(vs) == 0 {
		return nil, ""
	}
	switch {
	case payload:
		return vs, ErrorPayloadExceedsLimit
	case targets:
		return vs, ErrorTooManyTargets
	case noTarget:
		return vs, ErrorNoTargetDefined
	}
	return vs, ErrorInvalidRequest
}

func (l Limits) checkCommand(vs *validate.Violations, field string, c Command) {
	needNS, needKey, content := true, false, false
	switch c.Type {
	case TypePutNamespace, TypeRemoveNamespace:
	case TypePutObject:
		needKey, content = true, true
	case TypeRemoveObject:
		needKey = true
	case TypeClear:
		needNS = false
	case "":
		vs.Add(field+".type", "is required: PUT_NAMESPACE, PUT_OBJECT, REMOVE_NAMESPACE, REMOVE_OBJECT or CLEAR", nil)
		return
	default:
		vs.Add(field+".type", "must be PUT_NAMESPACE, PUT_OBJECT, REMOVE_NAMESPACE, REMOVE_OBJECT or CLEAR", string(c.Type))
		return
	}
	l.checkName(vs, field+".namespace", c.Type, c.Namespace, needNS)
	l.checkName(vs, field+".key", c.Type, c.Key, needKey)
	switch {
	case !content && len(c.Content) > 0:
		vs.Add(field+".content", fmt.Sprintf("must be empty for %s (only PUT_OBJECT has content)", c.Type), string(c.Content))
	case !content:
	case c.contentErr != nil:
		vs.Add(field+".content", "must encode as JSON: "+c.contentErr.Error(), nil)
	case len(c.Content) == 0 || string(c.Content) == "null":
		vs.Add(field+".content", "is required for PUT_OBJECT: any JSON value but null", nil)
	case !json.Valid(c.Content):
		vs.Add(field+".content", "must be valid JSON", string(c.Content))
	}
}

func (l Limits) checkName(vs *validate.Violations, field string, typ CommandType, name string, need bool) {
	switch n := utf8.RuneCountInString(name); {
	case !need && n > 0:
		vs.Add(field, fmt.Sprintf("must be empty for %s", typ), name)
	case !need:
	case n == 0:
		vs.Add(field, fmt.Sprintf("is required for %s", typ), nil)
	case n > l.MaxNameLength:
		addCount(vs, field, fmt.Sprintf("must be at most %d characters", l.MaxNameLength), n, "characters")
	case !utf8.ValidString(name):
		vs.Add(field, "must be valid UTF-8", name)
	}
}

// addCount records a violation whose value is a count, shown unquoted.
func addCount(vs *validate.Violations, field, rule string, n int, unit string) {
	v := strconv.Itoa(n)
	if unit != "" {
		v += " " + unit
	}
	*vs = append(*vs, alexa.Violation{Field: field, Rule: rule, Value: v})
}

// payloadSize is the size of the commands as compact JSON, as Alexa counts
// them against COMMANDS_PAYLOAD_EXCEEDS_LIMIT.
func payloadSize(cmds []Command) int {
	b, err := json.Marshal(cmds)
	if err != nil {
		return 0 // reported as content problems
	}
	return len(b)
}

// checkPage checks the arguments of a queued-results call.
func (l Limits) checkPage(op, id string, p Page) error {
	l = l.WithDefaults()
	var vs validate.Violations
	if id == "" {
		vs.Add("queuedResultId", "is required: the queuedResultId a commands call returned", nil)
	}
	if p.MaxResults < 0 || p.MaxResults > l.MaxResults {
		addCount(&vs, "maxResults", fmt.Sprintf("must be 1 to %d, or 0 for the server's default", l.MaxResults), p.MaxResults, "")
	}
	return vs.Err(op)
}
