package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/datastore"
	"github.com/alexa-oos/alexa/internal/text"
	"github.com/spf13/cobra"
)

// NewCmdDatastore returns the datastore command group.
func NewCmdDatastore(f *Factory) *cobra.Command {
	return datastoreGroup(NewCmdDatastorePut(f, nil), NewCmdDatastoreRemove(f, nil), NewCmdDatastoreClear(f, nil),
		NewCmdDatastoreQueue(f, nil), NewCmdDatastoreCancel(f, nil))
}

// datastoreGroup returns the datastore group holding cmds.
func datastoreGroup(cmds ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "datastore",
		Short: "Push data to devices' data stores (the DataStore API)",
		Long: `Change the data store on customers' devices, where a skill's widgets and
APL documents read their data: put or remove objects and namespaces, clear
it, follow the deliveries queued for offline devices, and cancel them.

The target is every device of one customer (--user USER_ID, the userId the
skill sees) or a list of devices (--device DEVICE_ID, repeatable).

Alexa answers with one result per device. An offline device is
DEVICE_UNAVAILABLE, and Alexa keeps trying it until --attempt-delivery-until
under the queuedResultId printed: "datastore queue ID" lists the deliveries
not made yet, "datastore cancel ID" stops them.

Exit status: 0 when every device received the commands or has them queued;
1 when some device failed (its result is printed) or the API failed; 2 for
a usage or validation error, in which case nothing was sent.`,
	}
	cmd.AddCommand(cmds...)
	return group(cmd)
}

// DatastoreTarget are the target and delivery flags of put, remove and
// clear.
type DatastoreTarget struct {
	// User targets every device of one customer (--user).
	User string
	// Devices target a list of devices (--device, repeatable).
	Devices []string
	// Until is --attempt-delivery-until, resolved by check; zero when
	// not given.
	Until time.Time
	until string
}

func (t *DatastoreTarget) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&t.User, "user", "", "every device of the customer with this userId")
	fs.StringArrayVar(&t.Devices, "device", nil, "a deviceId (repeatable)")
	fs.StringVar(&t.until, "attempt-delivery-until", "", "keep trying offline devices until this time (RFC 3339) or for this long (2h)")
}

// check checks the flags and resolves Until; now is the clock a duration
// counts from.
func (t *DatastoreTarget) check(now time.Time) error {
	switch {
	case t.User != "" && len(t.Devices) > 0:
		return usagef("--user and --device exclude each other: target one customer's devices or a list of devices")
	case t.User == "" && len(t.Devices) == 0:
		return usagef("needs --user USER_ID (every device of one customer) or --device DEVICE_ID (repeatable)")
	}
	if t.until != "" {
		at, err := parseUntil(t.until, now)
		if err != nil {
			return usagef("--attempt-delivery-until: %v", err)
		}
		t.Until = at
	}
	return nil
}

// request builds the request of cmds to the checked target, and checks it.
func (t *DatastoreTarget) request(cmds []datastore.Command) (*datastore.Request, error) {
	target := datastore.User(t.User)
	if len(t.Devices) > 0 {
		target = datastore.Devices(t.Devices...)
	}
	var opts []datastore.Option
	if !t.Until.IsZero() {
		opts = append(opts, datastore.AttemptDeliveryUntil(t.Until))
	}
	r := datastore.NewRequest(target, cmds, opts...)
	if err := datastore.DefaultLimits().Validate(r); err != nil {
		return nil, about("datastore", err)
	}
	return r, nil
}

// parseUntil reads a time (RFC 3339) or a duration from now.
func parseUntil(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := datastore.ParseTime(s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("must be a time such as 2026-11-25T18:30:00Z or a positive duration such as 2h (got %q)", s)
	}
	return now.Add(d), nil
}

// DatastoreSendOptions are what put, remove and clear share.
type DatastoreSendOptions struct {
	IO     *IOStreams
	Target func(needRefresh bool) (*target, error)

	// To is where the commands go.
	To      DatastoreTarget
	Timeout time.Duration
}

// ready checks the target flags and takes the timeout, before a send
// command runs.
func (o *DatastoreSendOptions) ready(f *Factory) error {
	if err := o.To.check(f.Now()); err != nil {
		return err
	}
	o.Timeout = f.timeout
	return nil
}

// DatastorePutOptions are the inputs of datastore put.
type DatastorePutOptions struct {
	DatastoreSendOptions
	Namespace, Key string
	// Content is the object of --content-json, cleaned; nil when the
	// object is in ContentFile.
	Content json.RawMessage
	// ContentFile holds the object (--content; "-" for IO.In).
	ContentFile string
	// CreateNamespace sends PUT_NAMESPACE first (--create-namespace).
	CreateNamespace bool
}

// NewCmdDatastorePut returns datastore put; runF, when not nil, runs
// instead of runDatastorePut.
func NewCmdDatastorePut(f *Factory, runF func(*DatastorePutOptions) error) *cobra.Command {
	opts := &DatastorePutOptions{DatastoreSendOptions: DatastoreSendOptions{IO: f.IO, Target: f.Target}}
	var contentJSON string
	cmd := &cobra.Command{
		Use:   "put (--user USER_ID | --device DEVICE_ID...) --namespace NS --key KEY (--content FILE | --content-json JSON)",
		Short: "Store an object on devices (PUT_OBJECT)",
		Long: fmt.Sprintf(`Store an object under --namespace and --key on the target's devices,
replacing what was there. The object is any JSON value but null: the
content of --content FILE (- for stdin) or --content-json.

--create-namespace sends PUT_NAMESPACE before the object, for a namespace
that may not exist yet.

A request holds at most %d bytes of commands; a skill stores at most 1 MB
per device, namespace and key names counted.`, datastore.DefaultMaxPayloadBytes),
		Example: `  alexa-oos datastore put --user amzn1.ask.account.XXXX --namespace scores --key match-42 --content-json '{"home":2,"away":1}'
  alexa-oos datastore put --device amzn1.ask.device.A --device amzn1.ask.device.B --namespace todo --key count --content count.json --attempt-delivery-until 2h`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("content-json") {
				b, err := jsonFlag("--content-json", contentJSON)
				if err != nil {
					return err
				}
				opts.Content = json.RawMessage(b)
			}
			if err := opts.ready(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runDatastorePut(cmd.Context(), opts)
		},
	}
	opts.To.register(cmd)
	fs := cmd.Flags()
	fs.StringVar(&opts.Namespace, "namespace", "", "the namespace (required)")
	fs.StringVar(&opts.Key, "key", "", "the key (required)")
	fs.StringVar(&opts.ContentFile, "content", "", "file holding the object as JSON (- for stdin)")
	fs.StringVar(&contentJSON, "content-json", "", "the object, as JSON")
	fs.BoolVar(&opts.CreateNamespace, "create-namespace", false, "send PUT_NAMESPACE first")
	cmd.MarkFlagRequired("namespace")
	cmd.MarkFlagRequired("key")
	cmd.MarkFlagsMutuallyExclusive("content", "content-json")
	cmd.MarkFlagsOneRequired("content", "content-json")
	return cmd
}

// runDatastorePut reads the object and stores it.
func runDatastorePut(ctx context.Context, opts *DatastorePutOptions) error {
	content := opts.Content
	if content == nil {
		_, b, err := opts.IO.readJSON("--content: ", opts.ContentFile)
		if err != nil {
			return err
		}
		content = json.RawMessage(b)
	}
	var cmds []datastore.Command
	if opts.CreateNamespace {
		cmds = append(cmds, datastore.PutNamespace(opts.Namespace))
	}
	cmds = append(cmds, datastore.PutObject(opts.Namespace, opts.Key, content))
	return runDatastoreSend(ctx, &opts.DatastoreSendOptions, cmds)
}

// DatastoreRemoveOptions are the inputs of datastore remove.
type DatastoreRemoveOptions struct {
	DatastoreSendOptions
	Namespace string
	// Key is the object to remove; without it (HasKey false) the whole
	// namespace goes.
	Key    string
	HasKey bool
}

// NewCmdDatastoreRemove returns datastore remove; runF, when not nil,
// runs instead of runDatastoreRemove.
func NewCmdDatastoreRemove(f *Factory, runF func(*DatastoreRemoveOptions) error) *cobra.Command {
	opts := &DatastoreRemoveOptions{DatastoreSendOptions: DatastoreSendOptions{IO: f.IO, Target: f.Target}}
	cmd := &cobra.Command{
		Use:   "remove (--user USER_ID | --device DEVICE_ID...) --namespace NS [--key KEY]",
		Short: "Remove an object or a namespace from devices",
		Long: `With --key, remove the object under --key in --namespace (REMOVE_OBJECT);
without it, remove the namespace and every object in it (REMOVE_NAMESPACE).`,
		Example: `  alexa-oos datastore remove --user amzn1.ask.account.XXXX --namespace scores --key match-42
  alexa-oos datastore remove --device amzn1.ask.device.A --namespace scores`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.HasKey = cmd.Flags().Changed("key")
			if err := opts.ready(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runDatastoreRemove(cmd.Context(), opts)
		},
	}
	opts.To.register(cmd)
	cmd.Flags().StringVar(&opts.Namespace, "namespace", "", "the namespace (required)")
	cmd.Flags().StringVar(&opts.Key, "key", "", "the key of the object to remove; without it the whole namespace goes")
	cmd.MarkFlagRequired("namespace")
	return cmd
}

// runDatastoreRemove removes the object or the namespace.
func runDatastoreRemove(ctx context.Context, opts *DatastoreRemoveOptions) error {
	c := datastore.RemoveNamespace(opts.Namespace)
	if opts.HasKey {
		c = datastore.RemoveObject(opts.Namespace, opts.Key)
	}
	return runDatastoreSend(ctx, &opts.DatastoreSendOptions, []datastore.Command{c})
}

// DatastoreClearOptions are the inputs of datastore clear.
type DatastoreClearOptions struct {
	DatastoreSendOptions
}

// NewCmdDatastoreClear returns datastore clear; runF, when not nil, runs
// instead of runDatastoreClear.
func NewCmdDatastoreClear(f *Factory, runF func(*DatastoreClearOptions) error) *cobra.Command {
	opts := &DatastoreClearOptions{DatastoreSendOptions{IO: f.IO, Target: f.Target}}
	cmd := &cobra.Command{
		Use:     "clear (--user USER_ID | --device DEVICE_ID...)",
		Short:   "Remove everything the skill stored on devices (CLEAR)",
		Example: `  alexa-oos datastore clear --user amzn1.ask.account.XXXX`,
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.ready(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runDatastoreClear(cmd.Context(), opts)
		},
	}
	opts.To.register(cmd)
	return cmd
}

// runDatastoreClear clears the devices' stores.
func runDatastoreClear(ctx context.Context, opts *DatastoreClearOptions) error {
	return runDatastoreSend(ctx, &opts.DatastoreSendOptions, []datastore.Command{datastore.Clear()})
}

// datastoreResult is the -o json form of put, remove and clear.
type datastoreResult struct {
	Result         string                     `json:"result"`
	Attempts       int                        `json:"attempts"`
	Target         datastore.Target           `json:"target"`
	Results        []datastore.DispatchResult `json:"results"`
	QueuedResultID string                     `json:"queuedResultId,omitempty"`
	Failed         int                        `json:"failed"`
	Emulator       *emulatorDataStore         `json:"emulator,omitempty"`
}

// emulatorDataStore is what the embedded emulator's devices store after
// the call.
type emulatorDataStore struct {
	URL     string             `json:"url"`
	Devices []alexatest.Device `json:"devices"`
}

// runDatastoreSend checks and sends cmds to the target and prints the
// outcome per device.
func runDatastoreSend(ctx context.Context, opts *DatastoreSendOptions, cmds []datastore.Command) error {
	req, err := opts.To.request(cmds)
	if err != nil {
		return err
	}
	tgt, err := opts.Target(false)
	if err != nil {
		return err
	}
	out, err := sendDatastore(ctx, opts, tgt, req)
	if err != nil {
		return err
	}
	if opts.IO.JSON() {
		opts.IO.printJSON(out)
	} else {
		printDispatch(opts.IO.Out, out)
	}
	if out.Failed > 0 {
		return &cliError{code: ExitFailure, kind: kindFailed, quiet: true,
			msg: fmt.Sprintf("datastore: %d of %d devices did not get the commands", out.Failed, len(out.Results))}
	}
	return nil
}

// sendDatastore sends req and returns what to print.
func sendDatastore(ctx context.Context, opts *DatastoreSendOptions, tgt *target, req *datastore.Request) (*datastoreResult, error) {
	ctx, cancel := withTimeout(ctx, opts.Timeout)
	defer cancel()
	tgt.connect("sending to the built-in emulator at %s", alexatest.Options{})
	defer tgt.close()
	res, err := datastore.NewClient(tgt.cfg).Send(ctx, req)
	if err != nil {
		return nil, datastoreError(err, opts.Timeout)
	}
	failed := res.Failed()
	out := &datastoreResult{Result: "sent", Attempts: res.Attempts, Target: req.Target, Results: res.Results, QueuedResultID: res.QueuedResultID, Failed: len(failed)}
	if out.Results == nil {
		out.Results = []datastore.DispatchResult{}
	}
	if len(failed) > 0 {
		out.Result = "failed"
	}
	if tgt.srv != nil {
		e := &emulatorDataStore{URL: tgt.srv.URL, Devices: []alexatest.Device{}}
		for _, r := range res.Results {
			if d, ok := tgt.srv.DataStore().Device(r.DeviceID); ok {
				e.Devices = append(e.Devices, d)
			}
		}
		out.Emulator = e
	}
	return out, nil
}

func printDispatch(w io.Writer, out *datastoreResult) {
	fmt.Fprintf(w, "sent to %s: HTTP 200, %s, %s\n", out.Target, attempts(out.Attempts), devicesCount(len(out.Results)))
	printResults(w, out.Results)
	if out.QueuedResultID != "" {
		fmt.Fprintf(w, "queued: %s (Alexa keeps trying offline devices; see \"alexa-oos datastore queue %s\")\n", out.QueuedResultID, out.QueuedResultID)
	}
	if e := out.Emulator; e != nil {
		for _, d := range e.Devices {
			state := "online"
			if !d.Online {
				state = "offline"
			}
			b, _ := json.Marshal(d.Store)
			fmt.Fprintf(w, "emulator device %s (%s, %d bytes): %s\n", d.ID, state, d.StoredBytes, b)
		}
	}
}

func devicesCount(n int) string {
	if n == 1 {
		return "1 device"
	}
	return fmt.Sprintf("%d devices", n)
}

func printResults(w io.Writer, rs []datastore.DispatchResult) {
	for _, r := range rs {
		line := fmt.Sprintf("  %s  %s", r.DeviceID, r.Type)
		if r.Message != "" {
			line += "  " + text.OneLine(r.Message, 200)
		}
		fmt.Fprintln(w, line)
	}
}

// datastoreError classifies err: DataStore's errors give their own hints.
func datastoreError(err error, timeout time.Duration) error { return classify(err, timeout) }

// queueResult is the -o json form of datastore queue.
type queueResult struct {
	QueuedResultID string                     `json:"queuedResultId"`
	Items          []datastore.DispatchResult `json:"items"`
}

// DatastoreQueueOptions are the inputs of datastore queue.
type DatastoreQueueOptions struct {
	IO     *IOStreams
	Target func(needRefresh bool) (*target, error)

	// ID is the queuedResultId.
	ID string
	// PageSize is the results per request; 0 for the server's default.
	PageSize int
	Timeout  time.Duration
}

// NewCmdDatastoreQueue returns datastore queue; runF, when not nil, runs
// instead of runDatastoreQueue.
func NewCmdDatastoreQueue(f *Factory, runF func(*DatastoreQueueOptions) error) *cobra.Command {
	opts := &DatastoreQueueOptions{IO: f.IO, Target: f.Target}
	cmd := &cobra.Command{
		Use:   "queue QUEUED_RESULT_ID",
		Short: "List the queued deliveries not made yet",
		Long: `List, over every page, the deliveries of a queued commands call that have
not succeeded: devices still offline, or whose delivery failed or expired.
An empty list means every device got the commands.`,
		Example: `  alexa-oos datastore queue 1a2b3c`,
		Args:    exactArgs(1, "QUEUED_RESULT_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if opts.PageSize < 0 || opts.PageSize > datastore.DefaultMaxResults {
				return usagef("--page-size: must be 1 to %d, or 0 for the server's default (got %d)", datastore.DefaultMaxResults, opts.PageSize)
			}
			opts.Timeout = f.timeout
			if runF != nil {
				return runF(opts)
			}
			return runDatastoreQueue(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVar(&opts.PageSize, "page-size", 0, "results per request (0: the server's default)")
	return cmd
}

// runDatastoreQueue lists the deliveries not made, over every page.
func runDatastoreQueue(ctx context.Context, opts *DatastoreQueueOptions) error {
	tgt, err := opts.Target(false)
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(ctx, opts.Timeout)
	defer cancel()
	tgt.connect("asking the built-in emulator at %s", alexatest.Options{})
	defer tgt.close()
	id := opts.ID
	out := queueResult{QueuedResultID: id, Items: []datastore.DispatchResult{}}
	for r, err := range datastore.NewClient(tgt.cfg).QueuedResultPages(ctx, id, opts.PageSize) {
		if err != nil {
			return datastoreError(err, opts.Timeout)
		}
		out.Items = append(out.Items, r)
	}
	if opts.IO.JSON() {
		opts.IO.printJSON(out)
		return nil
	}
	w := opts.IO.Out
	switch n := len(out.Items); n {
	case 0:
		fmt.Fprintf(w, "%s: every delivery was made\n", id)
	case 1:
		fmt.Fprintf(w, "%s: 1 delivery not made\n", id)
	default:
		fmt.Fprintf(w, "%s: %d deliveries not made\n", id, n)
	}
	printResults(w, out.Items)
	return nil
}

// DatastoreCancelOptions are the inputs of datastore cancel.
type DatastoreCancelOptions struct {
	IO     *IOStreams
	Target func(needRefresh bool) (*target, error)

	// ID is the queuedResultId.
	ID      string
	Timeout time.Duration
}

// NewCmdDatastoreCancel returns datastore cancel; runF, when not nil, runs
// instead of runDatastoreCancel.
func NewCmdDatastoreCancel(f *Factory, runF func(*DatastoreCancelOptions) error) *cobra.Command {
	opts := &DatastoreCancelOptions{IO: f.IO, Target: f.Target}
	return &cobra.Command{
		Use:   "cancel QUEUED_RESULT_ID",
		Short: "Cancel the queued deliveries not made yet",
		Long: `Stop Alexa from trying the devices that have not received the commands of
a queued call. Fails (exit 1) when nothing is left to cancel.`,
		Example: `  alexa-oos datastore cancel 1a2b3c`,
		Args:    exactArgs(1, "QUEUED_RESULT_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			opts.Timeout = f.timeout
			if runF != nil {
				return runF(opts)
			}
			return runDatastoreCancel(cmd.Context(), opts)
		},
	}
}

// runDatastoreCancel cancels the deliveries not made.
func runDatastoreCancel(ctx context.Context, opts *DatastoreCancelOptions) error {
	tgt, err := opts.Target(false)
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(ctx, opts.Timeout)
	defer cancel()
	tgt.connect("asking the built-in emulator at %s", alexatest.Options{})
	defer tgt.close()
	if err := datastore.NewClient(tgt.cfg).Cancel(ctx, opts.ID); err != nil {
		return datastoreError(err, opts.Timeout)
	}
	if opts.IO.JSON() {
		opts.IO.printJSON(map[string]string{"result": "cancelled", "queuedResultId": opts.ID})
		return nil
	}
	fmt.Fprintf(opts.IO.Out, "cancelled: %s\n", opts.ID)
	return nil
}
