package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/datastore"
	"github.com/alexa-oos/alexa/internal/validate"
)

// DataStoreArgs is a DataStore job: one line of "bulk datastore" input
// (bulk.DataStoreLine), the body of one DataStore commands call,
//
//	{"target": {"type": "USER", "id": "amzn1.ask.account.X"}, "commands": [{"type": "PUT_OBJECT", "namespace": "scores", "key": "match-42", "content": {"home": 2}}], "attemptDeliveryUntil": "2026-11-25T18:30:00Z"}
//
// It is checked with the queue's Options.DataStoreLimits when enqueued and
// again when it runs: a job whose attemptDeliveryUntil passed while it
// waited (scheduled, or retried) is cancelled rather than sent late.
// River stores a job's args as PostgreSQL jsonb, which keeps no key order:
// a content object reaches the devices with its keys in another order,
// the same JSON value.
type DataStoreArgs struct {
	datastore.Request
	// Key is the job's uniqueness key, as MessageArgs.Key.
	Key string `json:"key" river:"unique"`
}

// Kind is KindDataStore.
func (DataStoreArgs) Kind() string { return KindDataStore }

// NewDataStore returns the job of sending req, checked with
// datastore.DefaultLimits() as datastore.Client.Send checks it: an
// *alexa.ValidationError when invalid (matching datastore.ErrPayloadTooLarge
// when the commands are too large). The job holds a copy of req.
func NewDataStore(req *datastore.Request) (*DataStoreArgs, error) {
	if req == nil {
		return nil, validate.Violations{{Field: "request", Rule: "is required"}}.Err("queue.NewDataStore")
	}
	prepared, err := DataStoreArgs{Request: *req}.prepare("", defaultChecks())
	if err != nil {
		return nil, err
	}
	out := prepared.(DataStoreArgs)
	out.Key = ""
	return &out, nil
}

// ParseDataStore reads one line of "bulk datastore" input (see
// bulk.ParseDataStore) into a job, checked as NewDataStore checks it, or
// returns an *alexa.ValidationError naming every problem.
func ParseDataStore(line []byte) (*DataStoreArgs, error) {
	req, err := bulk.ParseDataStore(line, bulk.DataStoreOptions{})
	if err != nil {
		return nil, err
	}
	return NewDataStore(req)
}

func (a DataStoreArgs) prepare(key string, c checks) (river.JobArgs, error) {
	// Checked as given, before any copy: a PutObject whose content did not
	// encode carries its error in the command.
	if err := c.datastore.Validate(&a.Request); err != nil {
		return nil, err
	}
	// The stored form: contents compact, the deadline in the form Amazon's
	// SDKs send, and no slice shared with the caller's request.
	a.Commands = slices.Clone(a.Commands)
	for i, cmd := range a.Commands {
		if len(cmd.Content) > 0 {
			var b bytes.Buffer
			if err := json.Compact(&b, cmd.Content); err != nil {
				return nil, err // valid JSON, checked above
			}
			a.Commands[i].Content = b.Bytes()
		}
	}
	a.Target.Items = slices.Clone(a.Target.Items)
	if a.AttemptDeliveryUntil != "" {
		t, err := datastore.ParseTime(a.AttemptDeliveryUntil)
		if err != nil {
			return nil, err // checked above
		}
		a.AttemptDeliveryUntil = datastore.FormatTime(t)
	}
	if key == "" {
		canonical, err := a.canonical()
		if err != nil {
			return nil, err
		}
		key = contentKey(KindDataStore, canonical)
	}
	a.Key = key
	return a, nil
}

// canonical is the content the default key is derived from: the request
// as compact JSON with the keys of every content object sorted, so that
// the same commands written with other spacing or key order are one item.
func (a DataStoreArgs) canonical() (string, error) {
	req := a.Request
	req.Commands = slices.Clone(req.Commands)
	for i, cmd := range req.Commands {
		if len(cmd.Content) == 0 {
			continue
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(cmd.Content))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return "", err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		req.Commands[i].Content = b
	}
	b, err := json.Marshal(req)
	return string(b), err
}

// checkDeadline refuses a job whose attemptDeliveryUntil passes before
// at: it would be cancelled unsent.
func (a DataStoreArgs) checkDeadline(at time.Time) error {
	if a.AttemptDeliveryUntil == "" {
		return nil
	}
	until, err := datastore.ParseTime(a.AttemptDeliveryUntil)
	if err == nil && !until.After(at) {
		return validate.Violations{{Field: "attemptDeliveryUntil", Rule: "must be after the scheduled time " + at.UTC().Format(time.RFC3339), Value: a.AttemptDeliveryUntil}}.Err("queue.Enqueue")
	}
	return nil
}

type dataStoreWorker struct {
	river.WorkerDefaults[DataStoreArgs]
	w *Worker
}

// Work sends the commands, or, when an earlier attempt left devices that
// failed with a retryable type, sends them to those devices alone (a
// DEVICES target), as bulk.SendDataStore does. The outcome per device is
// the job's recorded output, a bulk.DataStoreResult.
func (dw *dataStoreWorker) Work(ctx context.Context, job *river.Job[DataStoreArgs]) error {
	w := dw.w
	req := job.Args.Request
	limits := w.q.checks.datastore
	if err := limits.Validate(&req); err != nil {
		return w.cancel(ctx, job.ID, err)
	}
	out := &bulk.DataStoreResult{Target: req.Target, Devices: []bulk.DeviceResult{}}
	if prev := job.Output(); len(prev) > 0 {
		var last bulk.DataStoreResult
		if json.Unmarshal(prev, &last) == nil && last.Devices != nil {
			out.Devices, out.QueuedResultIDs = last.Devices, last.QueuedResultIDs
		}
	}
	calls := []*datastore.Request{&req}
	if retry := retryDevices(out); len(retry) > 0 {
		calls = calls[:0]
		for chunk := range slices.Chunk(retry, limits.MaxDevices) {
			calls = append(calls, &datastore.Request{Commands: req.Commands, Target: datastore.Devices(chunk...), AttemptDeliveryUntil: req.AttemptDeliveryUntil})
		}
	}
	ctx, st := withSendState(ctx)
	for _, call := range calls {
		resp, err := w.datastore.Send(ctx, call)
		if err != nil {
			if len(out.Devices) > 0 {
				_ = river.RecordOutput(ctx, out)
			}
			return w.outcome(ctx, job.ID, st, err)
		}
		mergeDevices(out, resp)
	}
	_ = river.RecordOutput(ctx, out)
	failed := failedDevices(out)
	if len(failed) == 0 {
		w.sent.Add(1)
		return nil
	}
	derr := &bulk.DeviceError{Failed: failed, Devices: len(out.Devices)}
	if derr.Retryable() {
		w.retried.Add(1)
		return derr
	}
	return w.cancel(ctx, job.ID, derr)
}

// failedDevices returns the devices that neither got the commands nor
// have them queued (bulk.DeviceResult.Served).
func failedDevices(r *bulk.DataStoreResult) []bulk.DeviceResult {
	var out []bulk.DeviceResult
	for _, d := range r.Devices {
		if !d.Served() {
			out = append(out, d)
		}
	}
	return out
}

// retryDevices returns the failed devices that another attempt may serve:
// bulk's rule (CONCURRENCY_ERROR and INTERNAL_ERROR), asked of one
// device at a time.
func retryDevices(r *bulk.DataStoreResult) []string {
	var ids []string
	for _, d := range failedDevices(r) {
		if (&bulk.DeviceError{Failed: []bulk.DeviceResult{d}}).Retryable() {
			ids = append(ids, d.DeviceID)
		}
	}
	return ids
}

// mergeDevices takes in the answer of one commands call: a device already
// known gets its new outcome. A device neither delivered nor failed by
// datastore's rule (Response.Failed) was queued under the answer's
// queuedResultId.
func mergeDevices(r *bulk.DataStoreResult, resp *datastore.Response) {
	failed := map[string]bool{}
	for _, d := range resp.Failed() {
		failed[d.DeviceID] = true
	}
	queued := false
	for _, d := range resp.Results {
		dr := bulk.DeviceResult{DispatchResult: d}
		if d.Type != datastore.Success && !failed[d.DeviceID] {
			dr.QueuedResultID = resp.QueuedResultID
			queued = true
		}
		if i := slices.IndexFunc(r.Devices, func(x bulk.DeviceResult) bool { return x.DeviceID == d.DeviceID }); i >= 0 {
			r.Devices[i] = dr
		} else {
			r.Devices = append(r.Devices, dr)
		}
	}
	if queued && !slices.Contains(r.QueuedResultIDs, resp.QueuedResultID) {
		r.QueuedResultIDs = append(r.QueuedResultIDs, resp.QueuedResultID)
	}
}
