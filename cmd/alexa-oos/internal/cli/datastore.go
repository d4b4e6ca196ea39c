package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/datastore"
	"github.com/alexa-oos/alexa/internal/jsonin"
	"github.com/alexa-oos/alexa/internal/text"
	"github.com/spf13/cobra"
)

func (a *app) datastoreCommand() *cobra.Command {
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
	cmd.AddCommand(a.datastorePutCommand(), a.datastoreRemoveCommand(), a.datastoreClearCommand(),
		a.datastoreQueueCommand(), a.datastoreCancelCommand())
	return group(cmd)
}

// dsTarget holds the target and delivery flags shared by put, remove and
// clear.
type dsTarget struct {
	user    string
	devices []string
	until   string
}

func (t *dsTarget) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&t.user, "user", "", "every device of the customer with this userId")
	f.StringArrayVar(&t.devices, "device", nil, "a deviceId (repeatable)")
	f.StringVar(&t.until, "attempt-delivery-until", "", "keep trying offline devices until this time (RFC 3339) or for this long (2h)")
}

// request builds the request of cmds from the flags.
func (t *dsTarget) request(cmds []datastore.Command) (*datastore.Request, error) {
	switch {
	case t.user != "" && len(t.devices) > 0:
		return nil, usagef("--user and --device exclude each other: target one customer's devices or a list of devices")
	case t.user == "" && len(t.devices) == 0:
		return nil, usagef("needs --user USER_ID (every device of one customer) or --device DEVICE_ID (repeatable)")
	}
	target := datastore.User(t.user)
	if len(t.devices) > 0 {
		target = datastore.Devices(t.devices...)
	}
	var opts []datastore.Option
	if t.until != "" {
		at, err := parseUntil(t.until, time.Now())
		if err != nil {
			return nil, usagef("--attempt-delivery-until: %v", err)
		}
		opts = append(opts, datastore.AttemptDeliveryUntil(at))
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

func (a *app) datastorePutCommand() *cobra.Command {
	var t dsTarget
	var namespace, key, contentFile, contentJSON string
	var createNS bool
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
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			var content json.RawMessage
			switch {
			case cmd.Flags().Changed("content-json"):
				b, err := jsonin.Clean([]byte(contentJSON))
				if err != nil {
					return usagef("--content-json: %v", err)
				}
				content = json.RawMessage(b)
			default:
				_, b, err := a.readJSON("--content: ", contentFile)
				if err != nil {
					return err
				}
				content = json.RawMessage(b)
			}
			var cmds []datastore.Command
			if createNS {
				cmds = append(cmds, datastore.PutNamespace(namespace))
			}
			cmds = append(cmds, datastore.PutObject(namespace, key, content))
			return a.datastoreSend(cmd, &t, cmds)
		}),
	}
	t.flags(cmd)
	f := cmd.Flags()
	f.StringVar(&namespace, "namespace", "", "the namespace (required)")
	f.StringVar(&key, "key", "", "the key (required)")
	f.StringVar(&contentFile, "content", "", "file holding the object as JSON (- for stdin)")
	f.StringVar(&contentJSON, "content-json", "", "the object, as JSON")
	f.BoolVar(&createNS, "create-namespace", false, "send PUT_NAMESPACE first")
	cmd.MarkFlagRequired("namespace")
	cmd.MarkFlagRequired("key")
	cmd.MarkFlagsMutuallyExclusive("content", "content-json")
	cmd.MarkFlagsOneRequired("content", "content-json")
	return cmd
}

func (a *app) datastoreRemoveCommand() *cobra.Command {
	var t dsTarget
	var namespace, key string
	cmd := &cobra.Command{
		Use:   "remove (--user USER_ID | --device DEVICE_ID...) --namespace NS [--key KEY]",
		Short: "Remove an object or a namespace from devices",
		Long: `With --key, remove the object under --key in --namespace (REMOVE_OBJECT);
without it, remove the namespace and every object in it (REMOVE_NAMESPACE).`,
		Example: `  alexa-oos datastore remove --user amzn1.ask.account.XXXX --namespace scores --key match-42
  alexa-oos datastore remove --device amzn1.ask.device.A --namespace scores`,
		Args: exactArgs(0, "no arguments"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			c := datastore.RemoveNamespace(namespace)
			if cmd.Flags().Changed("key") {
				c = datastore.RemoveObject(namespace, key)
			}
			return a.datastoreSend(cmd, &t, []datastore.Command{c})
		}),
	}
	t.flags(cmd)
	cmd.Flags().StringVar(&namespace, "namespace", "", "the namespace (required)")
	cmd.Flags().StringVar(&key, "key", "", "the key of the object to remove; without it the whole namespace goes")
	cmd.MarkFlagRequired("namespace")
	return cmd
}

func (a *app) datastoreClearCommand() *cobra.Command {
	var t dsTarget
	cmd := &cobra.Command{
		Use:     "clear (--user USER_ID | --device DEVICE_ID...)",
		Short:   "Remove everything the skill stored on devices (CLEAR)",
		Example: `  alexa-oos datastore clear --user amzn1.ask.account.XXXX`,
		Args:    exactArgs(0, "no arguments"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			return a.datastoreSend(cmd, &t, []datastore.Command{datastore.Clear()})
		}),
	}
	t.flags(cmd)
	return cmd
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

// datastoreSend checks and sends cmds to the flags' target and prints
// the outcome per device.
func (a *app) datastoreSend(cmd *cobra.Command, t *dsTarget, cmds []datastore.Command) error {
	req, err := t.request(cmds)
	if err != nil {
		return err
	}
	tgt, err := a.resolve(false)
	if err != nil {
		return err
	}
	ctx, cancel := a.context(cmd)
	defer cancel()
	a.connect(tgt, "sending to the built-in emulator at %s")
	defer tgt.close()
	res, err := datastore.NewClient(tgt.cfg).Send(ctx, req)
	if err != nil {
		return a.datastoreError(err)
	}
	failed := res.Failed()
	out := datastoreResult{Result: "sent", Attempts: res.Attempts, Target: req.Target, Results: res.Results, QueuedResultID: res.QueuedResultID, Failed: len(failed)}
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
	if a.json() {
		a.printJSON(out)
	} else {
		a.printDispatch(a.env.Stdout, out)
	}
	if len(failed) > 0 {
		return &cliError{code: ExitFailure, kind: kindFailed, quiet: true,
			msg: fmt.Sprintf("datastore: %d of %d devices did not get the commands", len(failed), len(res.Results))}
	}
	return nil
}

func (a *app) printDispatch(w io.Writer, out datastoreResult) {
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
func (a *app) datastoreError(err error) error { return a.classify(err) }

// queueResult is the -o json form of datastore queue.
type queueResult struct {
	QueuedResultID string                     `json:"queuedResultId"`
	Items          []datastore.DispatchResult `json:"items"`
}

func (a *app) datastoreQueueCommand() *cobra.Command {
	var pageSize int
	cmd := &cobra.Command{
		Use:   "queue QUEUED_RESULT_ID",
		Short: "List the queued deliveries not made yet",
		Long: `List, over every page, the deliveries of a queued commands call that have
not succeeded: devices still offline, or whose delivery failed or expired.
An empty list means every device got the commands.`,
		Example: `  alexa-oos datastore queue 1a2b3c`,
		Args:    exactArgs(1, "QUEUED_RESULT_ID"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if pageSize < 0 || pageSize > datastore.DefaultMaxResults {
				return usagef("--page-size: must be 1 to %d, or 0 for the server's default (got %d)", datastore.DefaultMaxResults, pageSize)
			}
			tgt, err := a.resolve(false)
			if err != nil {
				return err
			}
			ctx, cancel := a.context(cmd)
			defer cancel()
			a.connect(tgt, "asking the built-in emulator at %s")
			defer tgt.close()
			out := queueResult{QueuedResultID: id, Items: []datastore.DispatchResult{}}
			for r, err := range datastore.NewClient(tgt.cfg).QueuedResultPages(ctx, id, pageSize) {
				if err != nil {
					return a.datastoreError(err)
				}
				out.Items = append(out.Items, r)
			}
			if a.json() {
				a.printJSON(out)
				return nil
			}
			w := a.env.Stdout
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
		}),
	}
	cmd.Flags().IntVar(&pageSize, "page-size", 0, "results per request (0: the server's default)")
	return cmd
}

func (a *app) datastoreCancelCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cancel QUEUED_RESULT_ID",
		Short: "Cancel the queued deliveries not made yet",
		Long: `Stop Alexa from trying the devices that have not received the commands of
a queued call. Fails (exit 1) when nothing is left to cancel.`,
		Example: `  alexa-oos datastore cancel 1a2b3c`,
		Args:    exactArgs(1, "QUEUED_RESULT_ID"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			id := args[0]
			tgt, err := a.resolve(false)
			if err != nil {
				return err
			}
			ctx, cancel := a.context(cmd)
			defer cancel()
			a.connect(tgt, "asking the built-in emulator at %s")
			defer tgt.close()
			if err := datastore.NewClient(tgt.cfg).Cancel(ctx, id); err != nil {
				return a.datastoreError(err)
			}
			if a.json() {
				a.printJSON(map[string]string{"result": "cancelled", "queuedResultId": id})
				return nil
			}
			fmt.Fprintf(a.env.Stdout, "cancelled: %s\n", id)
			return nil
		}),
	}
	return cmd
}
