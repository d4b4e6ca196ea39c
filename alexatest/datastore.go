package alexatest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alexa-oos/alexa/datastore"
	"golang.org/x/time/rate"
)

// AdminDataStore prefixes the emulator's DataStore admin endpoints:
//
//	GET    /_emulator/datastore/devices                 every device, with its store
//	GET    /_emulator/datastore/devices/{id}            one device
//	PUT    /_emulator/datastore/devices/{id}            add or change one: {"userId":"U","online":true}
//	POST   /_emulator/datastore/devices/{id}/online     bring it online: queued commands are delivered
//	POST   /_emulator/datastore/devices/{id}/offline    take it offline: commands queue for it
//	DELETE /_emulator/datastore/devices/{id}            unregister it: DEVICE_PERMANENTLY_UNAVAILABLE
//	GET    /_emulator/datastore/commands                commands calls received, oldest first
const AdminDataStore = "/_emulator/datastore"

// DataStoreOptions configure the emulator's DataStore API. The zero value
// checks with datastore.DefaultLimits(), allows 25 commands calls per second
// and creates an online device for any user or deviceId it does not know.
//
// Alexa does not document how long it keeps trying offline devices by
// default, its page size, or how many deliveries it queues per device:
// the defaults below are this emulator's choices.
type DataStoreOptions struct {
	// Limits check requests, and MaxStoreBytes bounds each device's store.
	Limits datastore.Limits
	// WritesPerSecond is how many commands calls are served per second,
	// 429 TOO_MANY_REQUESTS beyond. Default datastore.WritesPerSecond (25);
	// negative means no limit.
	WritesPerSecond float64
	// KnownDevicesOnly answers INVALID_DEVICE for a deviceId added by
	// neither AddDevice nor the admin endpoint, and gives a user without
	// devices no results. Otherwise such a device is created online, and
	// a user without devices gets one, DefaultDeviceID(userID).
	KnownDevicesOnly bool
	// DeliveryWindow is how long an offline device is retried when the
	// request has no attemptDeliveryUntil. Default one hour.
	DeliveryWindow time.Duration
	// PageSize is the size of a queued-results page when maxResults is
	// not given. Default 10.
	PageSize int
	// MaxPending is how many queued deliveries one device may wait for;
	// more are answered PENDING_REQUEST_COUNT_EXCEEDS_LIMIT. Default 10.
	MaxPending int
	// MaxDevices bounds the simulated devices. Default 10000.
	MaxDevices int
	// MaxQueued bounds the queued requests kept; the oldest is forgotten
	// first. Default 1000.
	MaxQueued int
	// MaxRecords bounds the commands calls kept by Calls; the oldest is
	// dropped first. Default Options.MaxRecords when set, else 1000.
	MaxRecords int
	// Now is the emulator's clock for delivery deadlines, so tests can
	// move time. Default time.Now.
	Now func() time.Time
}

func (o DataStoreOptions) withDefaults() DataStoreOptions {
	o.Limits = o.Limits.WithDefaults()
	if o.WritesPerSecond == 0 {
		o.WritesPerSecond = datastore.WritesPerSecond
	}
	if o.DeliveryWindow <= 0 {
		o.DeliveryWindow = time.Hour
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.PageSize, 10)
	def(&o.MaxPending, 10)
	def(&o.MaxDevices, 10000)
	def(&o.MaxQueued, 1000)
	def(&o.MaxRecords, 1000)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// DefaultDeviceID is the deviceId of the device the emulator creates for
// a user it has no device for.
func DefaultDeviceID(userID string) string {
	sum := sha256.Sum256([]byte(userID))
	return "amzn1.ask.device.alexatest-" + hex.EncodeToString(sum[:6])
}

// Device is a simulated device, as DataStore sees it.
type Device struct {
	ID     string `json:"deviceId"`
	UserID string `json:"userId,omitempty"`
	// Online devices receive commands at once; offline ones queue them.
	Online bool `json:"online"`
	// Removed devices are unregistered: DEVICE_PERMANENTLY_UNAVAILABLE.
	Removed bool `json:"removed,omitempty"`
	// StoredBytes is what the store counts against MaxStoreBytes:
	// namespace and key names and contents.
	StoredBytes int `json:"storedBytes"`
	// Pending is how many queued deliveries wait for the device.
	Pending int `json:"pending"`
	// Store holds the objects by namespace and key.
	Store map[string]map[string]json.RawMessage `json:"store"`
}

// DataStoreCall is a commands call the emulator received with a valid
// token, served or refused.
type DataStoreCall struct {
	Request datastore.Request `json:"request"`
	// Status is the HTTP status answered; ErrorType the error's type.
	Status    int    `json:"status"`
	ErrorType string `json:"errorType,omitempty"`
	// Results and QueuedResultID are what a 200 answered.
	Results        []datastore.DispatchResult `json:"results,omitempty"`
	QueuedResultID string                     `json:"queuedResultId,omitempty"`
	Received       time.Time                  `json:"received"`
}

// DataStore is the emulator's DataStore API: simulated devices per user,
// each with a namespace/key store, online or offline, and the deliveries
// queued for offline devices. Get it with Emulator.DataStore.
type DataStore struct {
	e       *Emulator
	opts    DataStoreOptions
	limiter *rate.Limiter

	mu      sync.Mutex
	devices map[string]*device
	users   map[string][]string // userId → deviceIds, in order added
	queues  map[string]*queued
	qorder  []string // queuedResultIds, oldest first
	calls   []DataStoreCall
	dropped int
	seq     int
}

type device struct {
	id, user string
	online   bool
	removed  bool
	store    map[string]map[string]json.RawMessage
	size     int
	pending  []*queued // oldest first
}

// queued is the deliveries of one commands call that found devices offline.
type queued struct {
	id       string
	until    time.Time
	commands []datastore.Command
	entries  map[string]*entry // by deviceId
}

type entryState int

const (
	pending entryState = iota
	delivered
	failed
	expired
	cancelled
)

type entry struct {
	state  entryState
	result datastore.DispatchResult // of a failed delivery
}

// newDataStore serves the DataStore API and its admin endpoints on mux.
func newDataStore(e *Emulator, opts DataStoreOptions, mux *http.ServeMux) *DataStore {
	opts = opts.withDefaults()
	ds := &DataStore{e: e, opts: opts}
	if opts.WritesPerSecond > 0 {
		ds.limiter = rate.NewLimiter(rate.Limit(opts.WritesPerSecond), max(1, int(opts.WritesPerSecond)))
	}
	ds.reset()
	mux.HandleFunc("POST "+datastore.PathCommands, ds.serveCommands)
	mux.HandleFunc("GET "+datastore.PathQueue+"{id}", ds.serveQueue)
	mux.HandleFunc("POST "+datastore.PathQueue+"{id}"+datastore.CancelSuffix, ds.serveCancel)
	mux.HandleFunc("GET "+AdminDataStore+"/devices", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, ds.Devices()) })
	mux.HandleFunc("GET "+AdminDataStore+"/devices/{id}", ds.adminDevice)
	mux.HandleFunc("PUT "+AdminDataStore+"/devices/{id}", ds.adminPutDevice)
	mux.HandleFunc("POST "+AdminDataStore+"/devices/{id}/online", ds.adminOnline(true))
	mux.HandleFunc("POST "+AdminDataStore+"/devices/{id}/offline", ds.adminOnline(false))
	mux.HandleFunc("DELETE "+AdminDataStore+"/devices/{id}", ds.adminRemove)
	mux.HandleFunc("GET "+AdminDataStore+"/commands", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, ds.Calls()) })
	return ds
}

// DataStore returns the emulator's DataStore API, to set up devices and
// read what they store.
func (e *Emulator) DataStore() *DataStore { return e.ds }

// reset forgets every device, queued delivery and call.
func (ds *DataStore) reset() {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	ds.devices = map[string]*device{}
	ds.users = map[string][]string{}
	ds.queues = map[string]*queued{}
	ds.qorder = nil
	ds.calls = nil
	ds.dropped = 0
}

// Reset forgets every device, queued delivery and recorded call.
func (ds *DataStore) Reset() { ds.reset() }

// errDevices is returned when MaxDevices devices exist already.
var errDevices = errors.New("alexatest: too many simulated devices (DataStoreOptions.MaxDevices)")

// AddDevice adds an online device of userID, or gives an existing device
// to userID and brings it back if it was removed.
func (ds *DataStore) AddDevice(userID, deviceID string) error {
	if deviceID == "" {
		return errors.New("alexatest: AddDevice needs a deviceId")
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	d, err := ds.device(deviceID)
	if err != nil {
		return err
	}
	d.removed = false
	ds.setUser(d, userID)
	return nil
}

// SetOnline brings the device online, which delivers what was queued for
// it and has not expired, or takes it offline.
func (ds *DataStore) SetOnline(deviceID string, online bool) error {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	d, ok := ds.devices[deviceID]
	if !ok {
		return fmt.Errorf("alexatest: no device %q", deviceID)
	}
	d.online = online
	if online {
		ds.deliverPending(d)
	}
	return nil
}

// RemoveDevice unregisters the device: it leaves its user, and commands
// for it are answered DEVICE_PERMANENTLY_UNAVAILABLE.
func (ds *DataStore) RemoveDevice(deviceID string) error {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	d, ok := ds.devices[deviceID]
	if !ok {
		return fmt.Errorf("alexatest: no device %q", deviceID)
	}
	ds.setUser(d, "")
	d.removed, d.online = true, false
	for _, q := range d.pending {
		if en := q.entries[d.id]; en != nil && en.state == pending {
			en.state = failed
			en.result = datastore.DispatchResult{DeviceID: d.id, Type: datastore.DevicePermanentlyUnavailable, Message: "the device was unregistered"}
		}
	}
	d.pending = nil
	return nil
}

// Device returns a copy of the device with deviceID.
func (ds *DataStore) Device(deviceID string) (Device, bool) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	d, ok := ds.devices[deviceID]
	if !ok {
		return Device{}, false
	}
	return ds.snapshot(d), true
}

// Devices returns a copy of every device, by deviceId.
func (ds *DataStore) Devices() []Device {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	out := make([]Device, 0, len(ds.devices))
	for _, id := range slices.Sorted(maps.Keys(ds.devices)) {
		out = append(out, ds.snapshot(ds.devices[id]))
	}
	return out
}

// UserDevices returns the deviceIds of userID, in the order added.
func (ds *DataStore) UserDevices(userID string) []string {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	return slices.Clone(ds.users[userID])
}

// Object returns what the device stores under namespace and key.
func (ds *DataStore) Object(deviceID, namespace, key string) (json.RawMessage, bool) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	d, ok := ds.devices[deviceID]
	if !ok {
		return nil, false
	}
	v, ok := d.store[namespace][key]
	return slices.Clone(v), ok
}

// Calls returns the commands calls received with a valid token, oldest
// first; at most DataStoreOptions.MaxRecords are kept.
func (ds *DataStore) Calls() []DataStoreCall {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	return slices.Clone(ds.calls)
}

// Dropped returns how many calls were dropped from Calls to keep it
// within MaxRecords.
func (ds *DataStore) Dropped() int {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	return ds.dropped
}

func (ds *DataStore) snapshot(d *device) Device {
	out := Device{ID: d.id, UserID: d.user, Online: d.online, Removed: d.removed, StoredBytes: d.size, Store: map[string]map[string]json.RawMessage{}}
	for ns, objs := range d.store {
		out.Store[ns] = maps.Clone(objs)
	}
	now := ds.opts.Now()
	for _, q := range d.pending {
		if en := q.entries[d.id]; en != nil && en.state == pending && !now.After(q.until) {
			out.Pending++
		}
	}
	return out
}

// device returns the device with id, created online if new.
func (ds *DataStore) device(id string) (*device, error) {
	if d, ok := ds.devices[id]; ok {
		return d, nil
	}
	if len(ds.devices) >= ds.opts.MaxDevices {
		return nil, errDevices
	}
	d := &device{id: id, online: true, store: map[string]map[string]json.RawMessage{}}
	ds.devices[id] = d
	return d, nil
}

func (ds *DataStore) setUser(d *device, user string) {
	if d.user == user {
		return
	}
	if d.user != "" {
		ds.users[d.user] = slices.DeleteFunc(ds.users[d.user], func(id string) bool { return id == d.id })
		if len(ds.users[d.user]) == 0 {
			delete(ds.users, d.user)
		}
	}
	d.user = user
	if user != "" {
		ds.users[user] = append(ds.users[user], d.id)
	}
}

// dsError writes a DataStore error body: {"type","message"}.
func dsError(w http.ResponseWriter, status int, typ, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"type": typ, "message": message})
}

// authorize checks the bearer token as every API does, and words a
// refusal as DataStore does.
func (ds *DataStore) authorize(w http.ResponseWriter, r *http.Request) bool {
	rec := httptest.NewRecorder()
	if ds.e.authorize(rec, r, datastore.Scope) {
		return true
	}
	var body struct {
		Message string `json:"message"`
	}
	json.Unmarshal(rec.Body.Bytes(), &body)
	dsError(w, rec.Code, datastore.ErrorInvalidAccessToken, body.Message)
	return false
}

// maxCommandsBody bounds a commands body: the payload limit and room for
// the target.
func (ds *DataStore) maxCommandsBody() int64 {
	return int64(ds.opts.Limits.MaxPayloadBytes) + 1<<20
}

func (ds *DataStore) serveCommands(w http.ResponseWriter, r *http.Request) {
	if !ds.authorize(w, r) {
		return
	}
	received := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, ds.maxCommandsBody()))
	var req datastore.Request
	status, typ, msg := 0, "", ""
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		status, typ, msg = http.StatusBadRequest, datastore.ErrorPayloadExceedsLimit, fmt.Sprintf("the body exceeds %d bytes", mbe.Limit)
	case err != nil:
		status, typ, msg = http.StatusBadRequest, datastore.ErrorInvalidRequest, "body: "+err.Error()
	case json.Unmarshal(body, &req) != nil:
		status, typ, msg = http.StatusBadRequest, datastore.ErrorInvalidRequest, "the body is not a CommandsRequest JSON object"
	}
	if status == 0 && ds.limiter != nil && !ds.limiter.Allow() {
		w.Header().Set("Retry-After", "1")
		status, typ, msg = http.StatusTooManyRequests, datastore.ErrorTooManyRequests, fmt.Sprintf("more than %g commands calls per second", ds.opts.WritesPerSecond)
	}
	if status == 0 {
		if vs, t := ds.opts.Limits.Check(&req, ds.opts.Now()); t != "" {
			status, typ = http.StatusBadRequest, t
			parts := make([]string, len(vs))
			for i, v := range vs {
				parts[i] = v.String()
			}
			msg = strings.Join(parts, "; ")
		}
	}
	if status != 0 {
		ds.record(DataStoreCall{Request: req, Status: status, ErrorType: typ, Received: received})
		dsError(w, status, typ, msg)
		return
	}
	resp := ds.dispatch(&req)
	ds.record(DataStoreCall{Request: req, Status: http.StatusOK, Results: resp.Results, QueuedResultID: resp.QueuedResultID, Received: received})
	writeJSON(w, resp)
}

func (ds *DataStore) record(c DataStoreCall) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.e.opts.DiscardRecords {
		return
	}
	if len(ds.calls) >= ds.opts.MaxRecords {
		n := len(ds.calls) - ds.opts.MaxRecords + 1
		ds.calls = slices.Delete(ds.calls, 0, n)
		ds.dropped += n
	}
	ds.calls = append(ds.calls, c)
}

// dispatch runs a valid request: online devices apply the commands,
// offline ones queue them.
func (ds *DataStore) dispatch(req *datastore.Request) *datastore.Response {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	now := ds.opts.Now()
	until := now.Add(ds.opts.DeliveryWindow)
	if req.AttemptDeliveryUntil != "" {
		until, _ = datastore.ParseTime(req.AttemptDeliveryUntil) // checked valid
	}
	resp := &datastore.Response{Results: []datastore.DispatchResult{}}
	var q *queued
	for _, id := range ds.targets(req.Target) {
		d := ds.devices[id]
		res := datastore.DispatchResult{DeviceID: id}
		switch {
		case d == nil:
			res.Type, res.Message = datastore.InvalidDevice, "no such device for this skill"
		case d.removed:
			res.Type, res.Message = datastore.DevicePermanentlyUnavailable, "the device is no longer registered"
		case d.online:
			res = ds.apply(d, req.Commands)
		case ds.pendingCount(d, now) >= ds.opts.MaxPending:
			res.Type, res.Message = datastore.PendingRequestCountExceedsLimit, fmt.Sprintf("%d deliveries already wait for this device", ds.opts.MaxPending)
		default:
			if q == nil {
				q = ds.newQueue(until, req.Commands)
			}
			q.entries[id] = &entry{state: pending}
			d.pending = append(d.pending, q)
			res.Type, res.Message = datastore.DeviceUnavailable, "the device is offline; delivery is retried until "+datastore.FormatTime(until)
		}
		resp.Results = append(resp.Results, res)
	}
	if q != nil {
		resp.QueuedResultID = q.id
	}
	return resp
}

// targets returns the deviceIds of a target, creating devices when the
// emulator may.
func (ds *DataStore) targets(t datastore.Target) []string {
	auto := !ds.opts.KnownDevicesOnly
	if t.Type == datastore.TargetUser {
		ids := ds.users[t.ID]
		if len(ids) == 0 && auto {
			d, err := ds.device(DefaultDeviceID(t.ID))
			if err != nil {
				return nil
			}
			d.removed = false
			ds.setUser(d, t.ID)
			ids = ds.users[t.ID]
		}
		return slices.Clone(ids)
	}
	var out []string
	for _, id := range t.Items {
		if slices.Contains(out, id) {
			continue
		}
		if auto {
			ds.device(id) // at MaxDevices, the device stays unknown: INVALID_DEVICE
		}
		out = append(out, id)
	}
	return out
}

func (ds *DataStore) pendingCount(d *device, now time.Time) int {
	n := 0
	d.pending = slices.DeleteFunc(d.pending, func(q *queued) bool {
		en := q.entries[d.id]
		if en == nil || en.state != pending {
			return true
		}
		if now.After(q.until) {
			en.state = expired
			return true
		}
		n++
		return false
	})
	return n
}

func (ds *DataStore) newQueue(until time.Time, cmds []datastore.Command) *queued {
	ds.seq++
	id := fmt.Sprintf("alexatest-queue-%d-%s", ds.seq, randomHex(4))
	q := &queued{id: id, until: until, commands: cmds, entries: map[string]*entry{}}
	if len(ds.qorder) >= ds.opts.MaxQueued {
		old := ds.queues[ds.qorder[0]]
		for devID, en := range old.entries {
			if en.state == pending {
				en.state = expired
				if d := ds.devices[devID]; d != nil {
					d.pending = slices.DeleteFunc(d.pending, func(p *queued) bool { return p == old })
				}
			}
		}
		delete(ds.queues, old.id)
		ds.qorder = ds.qorder[1:]
	}
	ds.queues[id] = q
	ds.qorder = append(ds.qorder, id)
	return q
}

// apply runs cmds on d's store, all or none: a store that would grow past
// MaxStoreBytes is left as it was.
func (ds *DataStore) apply(d *device, cmds []datastore.Command) datastore.DispatchResult {
	store := make(map[string]map[string]json.RawMessage, len(d.store))
	for ns, objs := range d.store {
		store[ns] = maps.Clone(objs)
	}
	for _, c := range cmds {
		switch c.Type {
		case datastore.TypePutNamespace:
			if store[c.Namespace] == nil {
				store[c.Namespace] = map[string]json.RawMessage{}
			}
		case datastore.TypePutObject:
			// A namespace is created by its first object too.
			if store[c.Namespace] == nil {
				store[c.Namespace] = map[string]json.RawMessage{}
			}
			store[c.Namespace][c.Key] = compactJSON(c.Content)
		case datastore.TypeRemoveNamespace:
			delete(store, c.Namespace)
		case datastore.TypeRemoveObject:
			delete(store[c.Namespace], c.Key)
		case datastore.TypeClear:
			clear(store)
		}
	}
	size := storeSize(store)
	if size > ds.opts.Limits.MaxStoreBytes {
		return datastore.DispatchResult{DeviceID: d.id, Type: datastore.InternalError,
			Message: fmt.Sprintf("STORAGE_LIMIT_EXCEEDED: the skill would store %d bytes on the device, more than %d", size, ds.opts.Limits.MaxStoreBytes)}
	}
	d.store, d.size = store, size
	return datastore.DispatchResult{DeviceID: d.id, Type: datastore.Success}
}

// compactJSON compacts valid JSON, so that what a device stores (and
// counts) does not depend on the sender's spacing.
func compactJSON(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// storeSize counts a store as Alexa does: namespace and key names and
// contents.
func storeSize(store map[string]map[string]json.RawMessage) int {
	n := 0
	for ns, objs := range store {
		n += len(ns)
		for k, v := range objs {
			n += len(k) + len(v)
		}
	}
	return n
}

// deliverPending delivers to d, now online, what waits for it.
func (ds *DataStore) deliverPending(d *device) {
	now := ds.opts.Now()
	for _, q := range d.pending {
		en := q.entries[d.id]
		if en == nil || en.state != pending {
			continue
		}
		if now.After(q.until) {
			en.state = expired
			continue
		}
		res := ds.apply(d, q.commands)
		if res.Type == datastore.Success {
			en.state = delivered
		} else {
			en.state, en.result = failed, res
		}
	}
	d.pending = nil
}

func (ds *DataStore) serveQueue(w http.ResponseWriter, r *http.Request) {
	if !ds.authorize(w, r) {
		return
	}
	id := r.PathValue("id")
	q := r.URL.Query()
	size := ds.opts.PageSize
	if s := q.Get("maxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > ds.opts.Limits.MaxResults {
			dsError(w, http.StatusBadRequest, datastore.ErrorInvalidRequest, fmt.Sprintf("maxResults must be 1 to %d (got %q)", ds.opts.Limits.MaxResults, s))
			return
		}
		size = n
	}
	offset := 0
	if tok := q.Get("nextToken"); tok != "" {
		n, ok := parsePageToken(id, tok)
		if !ok {
			dsError(w, http.StatusBadRequest, datastore.ErrorInvalidRequest, fmt.Sprintf("nextToken %q is not one this queuedResultId handed out", tok))
			return
		}
		offset = n
	}
	items, ok := ds.queueItems(id)
	if !ok {
		dsError(w, http.StatusNotFound, datastore.ErrorNotFound, fmt.Sprintf("no queued commands have queuedResultId %q", id))
		return
	}
	page := datastore.QueuedResults{Items: []datastore.DispatchResult{}, PaginationContext: datastore.PaginationContext{TotalCount: len(items)}}
	if offset < len(items) {
		page.Items = items[offset:min(offset+size, len(items))]
	}
	if offset > 0 {
		page.PaginationContext.PreviousToken = pageToken(id, max(0, offset-size))
	}
	if offset+size < len(items) {
		page.PaginationContext.NextToken = pageToken(id, offset+size)
	}
	writeJSON(w, page)
}

// pageToken is an opaque token for the page of queue id at offset.
func pageToken(id string, offset int) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:4]) + "." + strconv.Itoa(offset)
}

func parsePageToken(id, tok string) (int, bool) {
	prefix, num, ok := strings.Cut(tok, ".")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 0 || pageToken(id, 0) != prefix+".0" {
		return 0, false
	}
	return n, true
}

// queueItems returns the deliveries of queue id that have not succeeded,
// by deviceId.
func (ds *DataStore) queueItems(id string) ([]datastore.DispatchResult, bool) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	q, ok := ds.queues[id]
	if !ok {
		return nil, false
	}
	now := ds.opts.Now()
	var out []datastore.DispatchResult
	for _, devID := range slices.Sorted(maps.Keys(q.entries)) {
		en := q.entries[devID]
		res := datastore.DispatchResult{DeviceID: devID, Type: datastore.DeviceUnavailable}
		switch {
		case en.state == delivered:
			continue
		case en.state == failed:
			res = en.result
		case en.state == cancelled:
			res.Message = "not delivered: cancelled"
		case en.state == expired || now.After(q.until):
			res.Message = "not delivered: attemptDeliveryUntil " + datastore.FormatTime(q.until) + " passed"
		default:
			res.Message = "the device is offline; delivery is retried until " + datastore.FormatTime(q.until)
		}
		out = append(out, res)
	}
	return out, true
}

func (ds *DataStore) serveCancel(w http.ResponseWriter, r *http.Request) {
	if !ds.authorize(w, r) {
		return
	}
	id := r.PathValue("id")
	status, typ, msg := ds.cancel(id)
	if status != http.StatusNoContent {
		dsError(w, status, typ, msg)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (ds *DataStore) cancel(id string) (int, string, string) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	q, ok := ds.queues[id]
	if !ok {
		return http.StatusNotFound, datastore.ErrorNotFound, fmt.Sprintf("no queued commands have queuedResultId %q", id)
	}
	now := ds.opts.Now()
	n, anyDelivered := 0, false
	for devID, en := range q.entries {
		switch {
		case en.state == delivered:
			anyDelivered = true
		case en.state == pending && !now.After(q.until):
			en.state = cancelled
			n++
			if d := ds.devices[devID]; d != nil {
				d.pending = slices.DeleteFunc(d.pending, func(p *queued) bool { return p == q })
			}
		}
	}
	switch {
	case n > 0:
		return http.StatusNoContent, "", ""
	case anyDelivered:
		return http.StatusNotFound, datastore.ErrorCommandsDelivered, "nothing is pending: the commands were delivered"
	}
	return http.StatusNotFound, datastore.ErrorNotFound, "nothing is pending for this queuedResultId"
}

func (ds *DataStore) adminDevice(w http.ResponseWriter, r *http.Request) {
	d, ok := ds.Device(r.PathValue("id"))
	if !ok {
		http.Error(w, "no such device", http.StatusNotFound)
		return
	}
	writeJSON(w, d)
}

func (ds *DataStore) adminPutDevice(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in struct {
		UserID string `json:"userId"`
		Online *bool  `json:"online"`
	}
	body, err := io.ReadAll(r.Body) // read within its limit by Emulator.readBody
	if err == nil && len(body) > 0 {
		err = json.Unmarshal(body, &in)
	}
	if err != nil {
		http.Error(w, "body: want {\"userId\":\"U\",\"online\":true}: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := ds.AddDevice(in.UserID, id); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if in.Online != nil {
		ds.SetOnline(id, *in.Online)
	}
	ds.adminDevice(w, r)
}

func (ds *DataStore) adminOnline(online bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := ds.SetOnline(r.PathValue("id"), online); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		ds.adminDevice(w, r)
	}
}

func (ds *DataStore) adminRemove(w http.ResponseWriter, r *http.Request) {
	if err := ds.RemoveDevice(r.PathValue("id")); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
