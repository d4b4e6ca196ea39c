package bulk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/datastore"
	"github.com/alexa-oos/alexa/internal/validate"
)

// DefaultDataStoreRate is the rate of a DataStore job whose Options.Rate
// is 0: Alexa's documented limit of 25 DataStore writes per second per
// skill (datastore.WritesPerSecond). Faster, Alexa answers 429.
const DefaultDataStoreRate = float64(datastore.WritesPerSecond)

// DataStoreOptions are the options of a DataStore job (SendDataStore),
// in Options.DataStore. The zero value checks lines with
// datastore.DefaultLimits and leaves attemptDeliveryUntil to each line.
type DataStoreOptions struct {
	// Limits check every line before it is sent, as datastore.Client
	// does; the zero value is datastore.DefaultLimits. A line that breaks
	// them is reported Invalid and not sent.
	Limits datastore.Limits
	// AttemptDeliveryUntil is given to the lines without an
	// attemptDeliveryUntil of their own: Alexa keeps trying their offline
	// devices until then. Zero leaves it to Alexa.
	AttemptDeliveryUntil time.Time
}

// DataStoreLine is one line of a bulk DataStore input: the body of one
// DataStore commands call (datastore.Request), on one line:
//
//	{"target": {"type": "USER", "id": "amzn1.ask.account.X"}, "commands": [{"type": "PUT_OBJECT", "namespace": "scores", "key": "match-42", "content": {"home": 2}}], "attemptDeliveryUntil": "2026-11-25T18:30:00Z"}
//
// The target is {"type": "USER", "id": userId} or {"type": "DEVICES",
// "items": [deviceId, ...]}; the commands are PUT_NAMESPACE, PUT_OBJECT,
// REMOVE_NAMESPACE, REMOVE_OBJECT and CLEAR, run in order on every device;
// attemptDeliveryUntil is optional.
type DataStoreLine = datastore.Request

// DeviceResult is the outcome of a DataStore item on one device.
type DeviceResult struct {
	datastore.DispatchResult
	// QueuedResultID is set when the device was offline and Alexa keeps
	// trying it, under this id, until attemptDeliveryUntil: follow it
	// with datastore.Client.QueuedResult, stop it with Cancel.
	QueuedResultID string `json:"queuedResultId,omitempty"`
}

// Served reports whether the device got the commands or has them
// queued: it needs nothing more from the job.
func (d DeviceResult) Served() bool { return d.Type == datastore.Success || d.QueuedResultID != "" }

// DataStoreResult is what became of a DataStore item on its devices, in
// Result.DataStore.
type DataStoreResult struct {
	// Target is the line's target.
	Target datastore.Target `json:"target"`
	// Devices holds each device's last outcome, in the order Alexa first
	// answered them. A device that failed with a retryable type and was
	// then served shows its later outcome.
	Devices []DeviceResult `json:"devices"`
	// QueuedResultIDs are the ids under which Alexa keeps trying offline
	// devices (one per commands call that found a device offline).
	QueuedResultIDs []string `json:"queuedResultIds,omitempty"`
}

// Queued returns the devices whose commands Alexa queued, to deliver
// when they come online.
func (r *DataStoreResult) Queued() []DeviceResult {
	var out []DeviceResult
	for _, d := range r.Devices {
		if d.QueuedResultID != "" {
			out = append(out, d)
		}
	}
	return out
}

// failed returns the devices that were neither served nor queued.
func (r *DataStoreResult) failed() []DeviceResult {
	var out []DeviceResult
	for _, d := range r.Devices {
		if !d.Served() {
			out = append(out, d)
		}
	}
	return out
}

// merge takes in the answer of one commands call: a device already known
// gets its new outcome.
func (r *DataStoreResult) merge(resp *datastore.Response) {
	// Which devices are neither served nor queued is datastore's rule.
	failed := map[string]bool{}
	for _, d := range resp.Failed() {
		failed[d.DeviceID] = true
	}
	queued := false
	for _, d := range resp.Results {
		dr := DeviceResult{DispatchResult: d}
		if d.Type != datastore.Success && !failed[d.DeviceID] {
			dr.QueuedResultID = resp.QueuedResultID
			queued = true
		}
		if i := slices.IndexFunc(r.Devices, func(x DeviceResult) bool { return x.DeviceID == d.DeviceID }); i >= 0 {
			r.Devices[i] = dr
		} else {
			r.Devices = append(r.Devices, dr)
		}
	}
	if queued && !slices.Contains(r.QueuedResultIDs, resp.QueuedResultID) {
		r.QueuedResultIDs = append(r.QueuedResultIDs, resp.QueuedResultID)
	}
}

// retriedDispatch reports whether a device that failed with t is sent the
// commands again: another update of the device was under way
// (CONCURRENCY_ERROR), or Alexa failed (INTERNAL_ERROR). The other
// failures would fail again: the device is not the skill's or is gone
// (INVALID_DEVICE, DEVICE_PERMANENTLY_UNAVAILABLE), too much waits for it
// (PENDING_REQUEST_COUNT_EXCEEDS_LIMIT), or it is offline with nothing
// queued (DEVICE_UNAVAILABLE without a queuedResultId).
func retriedDispatch(t datastore.DispatchType) bool {
	return t == datastore.ConcurrencyError || t == datastore.InternalError
}

// DeviceError is the error of a DataStore item that Alexa took (HTTP 200)
// but that did not reach every device: Failed lists the devices that
// neither got the commands nor have them queued, after the retries. The
// other devices did get them; a rerun sends the item to all its devices
// again, which the commands, each setting a state, make harmless.
type DeviceError struct {
	// Failed are the devices not served, in the order Alexa answered.
	Failed []DeviceResult
	// Devices is how many devices Alexa answered for in all.
	Devices int
	// Err is the error of the call that retried the failed devices, when
	// that call failed as a whole; nil otherwise.
	Err error
}

func (e *DeviceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "datastore: %d of %d devices did not get the commands: ", len(e.Failed), e.Devices)
	const show = 5
	for i, d := range e.Failed {
		if i == show {
			fmt.Fprintf(&b, ", and %d more", len(e.Failed)-show)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.DeviceID + " " + string(d.Type))
		if d.Message != "" {
			b.WriteString(" (" + oneLine(d.Message) + ")")
		}
	}
	if e.Err != nil {
		fmt.Fprintf(&b, "; sending to them again failed: %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the error of the failed retry call, if any.
func (e *DeviceError) Unwrap() error { return e.Err }

// Retryable reports whether trying again may serve a failed device.
func (e *DeviceError) Retryable() bool {
	if e.Err != nil {
		var r interface{ Retryable() bool }
		return errors.As(e.Err, &r) && r.Retryable()
	}
	return slices.ContainsFunc(e.Failed, func(d DeviceResult) bool { return retriedDispatch(d.Type) })
}

// reason is the item's Reason: the first failed device's type.
func (e *DeviceError) reason() string {
	if e.Err != nil || len(e.Failed) == 0 {
		return ""
	}
	return string(e.Failed[0].Type)
}

// oneLine shortens s to one line of at most 200 bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

// SendDataStore sends one DataStore commands call per line of input (see
// DataStoreLine): each line's commands to its target, checked first with
// opts.DataStore.Limits.
//
// The job runs at most DefaultDataStoreRate (25) calls per second when
// opts.Rate is 0, Alexa's documented write limit: a job at full speed
// would otherwise be answered 429. Give a higher Rate if Alexa granted the
// skill more; math.Inf(1) removes the cap.
//
// An item counts as delivered (Sent) when every device Alexa answered for
// got the commands or has them queued (offline, DEVICE_UNAVAILABLE with a
// queuedResultId): Alexa took charge of it, and a rerun skips it with the
// journal. Result.DataStore has the outcome per device and the queued ids;
// Summary.Queued counts these items. A target with no devices (no result)
// counts as sent: there is nothing to deliver.
//
// A device answered CONCURRENCY_ERROR or INTERNAL_ERROR is sent the
// commands again, alone with the others that failed so (a DEVICES
// target), with the retry policy's backoff and attempts. An item with a
// device still failing, or failing otherwise (INVALID_DEVICE,
// DEVICE_PERMANENTLY_UNAVAILABLE, PENDING_REQUEST_COUNT_EXCEEDS_LIMIT,
// DEVICE_UNAVAILABLE with nothing queued), is Failed with a *DeviceError,
// whose first device's type is the Reason, and is not journaled: a rerun
// sends it to all its devices again.
//
// A call Alexa refuses as a whole (4xx) is Failed, except that 403
// DATASTORE_SUPPORT_REQUIRED, like a refused token, stops the job: every
// item would fail the same way. DataStore commands set a state, so a call
// whose answer was lost is sent again (Options.AtMostOnce does not apply).
// Otherwise it behaves as SendMessages.
func SendDataStore(ctx context.Context, cfg alexa.Config, input io.Reader, opts Options) (*Summary, error) {
	if opts.Rate == 0 {
		opts.Rate = DefaultDataStoreRate
	}
	e, err := newEngine(KindDataStore, cfg, opts)
	if err != nil {
		return nil, err
	}
	dopts := opts.DataStore
	dopts.Limits = dopts.Limits.WithDefaults()
	client := datastore.NewClient(e.cfg, datastore.WithLimits(dopts.Limits))
	e.process = func(ctx context.Context, it *item) Result {
		l := it.Line
		res := Result{Line: l.N, Input: l.Data}
		req, err := parseDataStore(l.Data, dopts)
		if req != nil && req.Target.Type == datastore.TargetUser {
			res.UserID = req.Target.ID
		}
		if err != nil {
			res.Status, res.Err = Invalid, err
			return res
		}
		return e.sendDataStore(ctx, client, req, res, dopts.Limits.MaxDevices)
	}
	return e.run(ctx, input)
}

// ParseDataStore reads one line of a bulk DataStore input (see
// DataStoreLine), gives it opts.AttemptDeliveryUntil when it has none,
// and checks it with opts.Limits, as SendDataStore does before sending.
// The error is an *alexa.ValidationError listing every problem (matching
// datastore.ErrPayloadTooLarge when the commands are too large); the
// request is returned with it when the line was read, to report its
// target.
func ParseDataStore(data []byte, opts DataStoreOptions) (*datastore.Request, error) {
	return parseDataStore(data, opts)
}

// dataStoreFields are the fields of a DataStore line.
var dataStoreFields = []string{"target", "commands", "attemptDeliveryUntil"}

func parseDataStore(data []byte, opts DataStoreOptions) (*datastore.Request, error) {
	req := new(datastore.Request)
	if err := json.Unmarshal(data, req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, validate.Violations{{Field: te.Field, Rule: "must be a JSON " + jsonKind(te.Type), Value: "a JSON " + te.Value}}.Err("bulk")
		}
		return nil, notJSON(data, err)
	}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(data, &top) // an object: req decoded
	if req.AttemptDeliveryUntil == "" && !opts.AttemptDeliveryUntil.IsZero() {
		req.AttemptDeliveryUntil = datastore.FormatTime(opts.AttemptDeliveryUntil)
	}
	err := opts.Limits.Validate(req)
	var vs validate.Violations
	var ve *alexa.ValidationError
	if errors.As(err, &ve) {
		vs = append(vs, ve.Violations...)
	}
	if addUnknown(&vs, slices.Sorted(maps.Keys(top)), dataStoreFields) {
		return req, vs.Err("bulk")
	}
	if err != nil {
		return req, err
	}
	return req, nil
}

// jsonKind names the JSON kind that decodes into t.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	}
	return "number"
}

// sendDataStore sends req, then the commands again to the devices that
// failed with a retryable type, and returns res with the outcome.
func (e *engine) sendDataStore(ctx context.Context, c *datastore.Client, req *datastore.Request, res Result, maxDevices int) Result {
	resp, err := c.Send(ctx, req)
	if err != nil {
		return e.failed(res, err)
	}
	out := &DataStoreResult{Target: req.Target, Devices: []DeviceResult{}}
	out.merge(resp)
	res.DataStore, res.Attempts = out, resp.Attempts
	for round := 1; ; round++ {
		failed := out.failed()
		if len(failed) == 0 {
			res.Status = Sent
			return res
		}
		derr := &DeviceError{Failed: failed, Devices: len(out.Devices)}
		res.Status, res.Err = Failed, derr
		var retry []string
		for _, d := range failed {
			if retriedDispatch(d.Type) {
				retry = append(retry, d.DeviceID)
			}
		}
		// Wait counts the retry and backs off as for a failed call; it
		// refuses when the attempts are used up or the job stops.
		if len(retry) == 0 || !e.cfg.Retry.Wait(ctx, round, derr, 0) {
			return res
		}
		for chunk := range slices.Chunk(retry, max(1, maxDevices)) {
			again := &datastore.Request{Commands: req.Commands, Target: datastore.Devices(chunk...), AttemptDeliveryUntil: req.AttemptDeliveryUntil}
			resp, err := c.Send(ctx, again)
			if err != nil {
				derr.Err = err
				res.Attempts += attemptsOf(err)
				if errors.Is(err, alexa.ErrOutcomeUnknown) {
					res.Status = Unknown
				}
				return res
			}
			res.Attempts += resp.Attempts
			out.merge(resp)
		}
	}
}

// attemptsOf returns the attempts a failed call made.
func attemptsOf(err error) int {
	var (
		ae *alexa.Error
		te *alexa.TransportError
	)
	switch {
	case errors.As(err, &ae):
		return ae.Attempts
	case errors.As(err, &te):
		return te.Attempts
	}
	return 0
}
