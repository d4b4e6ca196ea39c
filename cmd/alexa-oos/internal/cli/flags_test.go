package cli

// Flag parsing, without running anything: each NewCmdX gets a runF that
// captures its options, as the GitHub CLI's command tests do.

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/cobra"
)

// testNow is the clock of the flag tests.
var testNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// parseCase is one command line, and the options it must give the command
// (or the usage error it must be refused with, before the command runs).
type parseCase[O any] struct {
	name    string
	vars    map[string]string
	args    []string
	want    O
	wantErr string
}

// ignoreDeps leaves out of comparisons what options hold of the Factory.
var ignoreDeps = cmp.Options{
	cmpopts.IgnoreTypes((*IOStreams)(nil), func() time.Time { return time.Time{} }, func(bool) (*target, error) { return nil, nil }),
	cmpopts.IgnoreUnexported(DatastoreTarget{}),
	cmpopts.EquateEmpty(),
	// A schema is known by its name (its Example is a function).
	cmp.Comparer(func(a, b proactive.SchemaInfo) bool { return a.Name == b.Name }),
}

// testParse runs each case through the real root command, holding the
// command newCmd builds inside wrap (its group), and checks what runF
// captured. Parsing reads no environment variable but those in allowEnv:
// the target, credentials included, is resolved only by the run.
func testParse[O any](t *testing.T, newCmd func(*Factory, func(*O) error) *cobra.Command, wrap func(*Factory, *cobra.Command) *cobra.Command, tests []parseCase[O], allowEnv ...string) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			f := newFactory(Env{Stdout: &stdout, Stderr: &stderr, Now: func() time.Time { return testNow }, Getenv: func(k string) string {
				if !contains(allowEnv, k) {
					t.Errorf("parsing looked up %s", k)
				}
				return tt.vars[k]
			}})
			var got *O
			cmd := newCmd(f, func(o *O) error { got = o; return nil })
			if wrap != nil {
				cmd = wrap(f, cmd)
			}
			root := newRoot(f, cmd)
			root.SetArgs(tt.args)
			root.SetOut(&stdout)
			root.SetErr(&stderr)
			err := root.ExecuteContext(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				if code := f.finish(err); code != ExitUsage {
					t.Errorf("exit %d, want %d", code, ExitUsage)
				}
				if got != nil {
					t.Errorf("the command ran with %+v", *got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("runF was not called")
			}
			if d := cmp.Diff(tt.want, *got, ignoreDeps); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func inProactive(f *Factory, c *cobra.Command) *cobra.Command { return proactiveGroup(f, c) }
func inMessage(_ *Factory, c *cobra.Command) *cobra.Command   { return messageGroup(c) }
func inBulk(_ *Factory, c *cobra.Command) *cobra.Command      { return bulkGroup(c) }
func inDatastore(_ *Factory, c *cobra.Command) *cobra.Command { return datastoreGroup(c) }

func args(s string) []string { return strings.Fields(s) }

func TestNewCmdProactiveSend(t *testing.T) {
	t.Parallel()
	dev := ProactiveSendOptions{File: "x.json", Stage: proactive.Development, Timeout: DefaultTimeout}
	with := func(change func(*ProactiveSendOptions)) ProactiveSendOptions {
		o := dev
		change(&o)
		return o
	}
	testParse(t, NewCmdProactiveSend, inProactive, []parseCase[ProactiveSendOptions]{
		{name: "file", args: args("proactive send x.json"), want: dev},
		{name: "stdin, live", args: args("proactive send --stage live -"), want: with(func(o *ProactiveSendOptions) { o.File, o.Stage = "-", proactive.Live })},
		{name: "stage in any case", args: args("proactive send --stage LIVE x.json"), want: with(func(o *ProactiveSendOptions) { o.Stage = proactive.Live })},
		{name: "stage as ParseStage reads it", args: args("proactive send --stage=dev x.json"), want: dev},
		{name: "any locale on the group", args: args("proactive --any-locale send x.json"), want: with(func(o *ProactiveSendOptions) { o.AnyLocale = true })},
		{name: "any locale after", args: args("proactive send x.json --any-locale"), want: with(func(o *ProactiveSendOptions) { o.AnyLocale = true })},
		{name: "timeout", args: args("--timeout 5s proactive send x.json"), want: with(func(o *ProactiveSendOptions) { o.Timeout = 5 * time.Second })},
		{name: "no deadline", args: args("proactive send --timeout 0 x.json"), want: with(func(o *ProactiveSendOptions) { o.Timeout = 0 })},
		{name: "bad stage", args: args("proactive send --stage prod x.json"), wantErr: `--stage: must be development or live (got "prod")`},
		{name: "empty stage", args: []string{"proactive", "send", "--stage", "", "x.json"}, wantErr: `--stage: must be development or live (got "")`},
		{name: "no file", args: args("proactive send"), wantErr: "alexa-oos proactive send: expects one FILE (or - for stdin) (got 0 arguments)"},
		{name: "two files", args: args("proactive send a.json b.json"), wantErr: "(got 2 arguments)"},
		{name: "negative timeout", args: args("--timeout -1s proactive send x.json"), wantErr: "--timeout: must not be negative"},
		{name: "secret as a flag", args: args("--client-secret s proactive send x.json"), wantErr: "--client-secret is not accepted"},
		{name: "unknown flag", args: args("proactive send --stag live x.json"), wantErr: "unknown flag: --stag"},
	})
}

func TestNewCmdProactiveValidate(t *testing.T) {
	t.Parallel()
	testParse(t, NewCmdProactiveValidate, inProactive, []parseCase[ProactiveValidateOptions]{
		{name: "files", args: args("proactive validate a.json - b.json"), want: ProactiveValidateOptions{Files: []string{"a.json", "-", "b.json"}}},
		{name: "verbose", args: args("-v proactive validate a.json"), want: ProactiveValidateOptions{Files: []string{"a.json"}, Verbose: true}},
		{name: "any locale", args: args("proactive validate --any-locale a.json"), want: ProactiveValidateOptions{Files: []string{"a.json"}, AnyLocale: true}},
		{name: "no file", args: args("proactive validate"), wantErr: "expects at least one FILE"},
	})
}

func TestNewCmdProactivePreview(t *testing.T) {
	t.Parallel()
	testParse(t, NewCmdProactivePreview, inProactive, []parseCase[ProactivePreviewOptions]{
		{name: "file", args: args("proactive preview --any-locale a.json"), want: ProactivePreviewOptions{File: "a.json", AnyLocale: true}},
		{name: "two files", args: args("proactive preview a.json b.json"), wantErr: "expects one FILE"},
	})
}

func TestNewCmdProactiveNew(t *testing.T) {
	t.Parallel()
	weather, _ := findSchema(proactive.SchemaWeatherAlert)
	testParse(t, NewCmdProactiveNew, inProactive, []parseCase[ProactiveNewOptions]{
		{name: "middle name", args: args("proactive new weatheralert"), want: ProactiveNewOptions{Schema: weather}},
		{name: "locales and user", args: args("proactive new AMAZON.WeatherAlert.Activated --locale en-US --locale de-DE --unicast amzn1.ask.account.X"),
			want: ProactiveNewOptions{Schema: weather, Locales: []string{"en-US", "de-DE"}, User: "amzn1.ask.account.X"}},
		{name: "unknown schema", args: args("proactive new Weather"), wantErr: `unknown schema "Weather": known schemas are AMAZON.`},
		{name: "empty unicast", args: []string{"proactive", "new", "WeatherAlert", "--unicast", ""}, wantErr: "--unicast: needs a userId"},
		{name: "no schema", args: args("proactive new"), wantErr: "expects one SCHEMA"},
	})
}

func TestNewCmdProactiveSchemas(t *testing.T) {
	t.Parallel()
	testParse(t, NewCmdProactiveSchemas, inProactive, []parseCase[ProactiveSchemasOptions]{
		{name: "none", args: args("proactive schemas"), want: ProactiveSchemasOptions{}},
		{name: "an argument", args: args("proactive schemas WeatherAlert"), wantErr: "expects no arguments"},
	})
}

func TestNewCmdMessageSend(t *testing.T) {
	t.Parallel()
	testParse(t, NewCmdMessageSend, inMessage, []parseCase[MessageSendOptions]{
		{name: "user only", args: args("message send --user u"), want: MessageSendOptions{User: "u", Timeout: DefaultTimeout}},
		{name: "data", args: []string{"message", "send", "--user", "u", "--data", "\uFEFF{\"a\": 1}"}, want: MessageSendOptions{User: "u", Data: json.RawMessage(`{"a": 1}`), Timeout: DefaultTimeout}},
		{name: "data file", args: args("message send --user u --data-file -"), want: MessageSendOptions{User: "u", DataFile: "-", Timeout: DefaultTimeout}},
		{name: "duration", args: args("message send --user u --expires-after 2h"), want: MessageSendOptions{User: "u", ExpiresAfterSeconds: 7200, Timeout: DefaultTimeout}},
		{name: "seconds", args: args("message send --user u --expires-after 90"), want: MessageSendOptions{User: "u", ExpiresAfterSeconds: 90, Timeout: DefaultTimeout}},
		// The range is the library's rule, checked by the run.
		{name: "seconds out of range", args: args("message send --user u --expires-after 10"), want: MessageSendOptions{User: "u", ExpiresAfterSeconds: 10, Timeout: DefaultTimeout}},
		{name: "no user", args: args("message send"), wantErr: `required flag(s) "user" not set`},
		{name: "data twice", args: args("message send --user u --data {} --data-file x"), wantErr: "[data data-file] are set none of the others can be"},
		{name: "empty data", args: []string{"message", "send", "--user", "u", "--data", " "}, wantErr: "--data: is empty"},
		{name: "data not UTF-8", args: []string{"message", "send", "--user", "u", "--data", "{\"a\":\"\xff\"}"}, wantErr: "--data: invalid UTF-8 at byte offset 6"},
		{name: "zero expiry", args: args("message send --user u --expires-after 0s"), wantErr: "--expires-after: must be 60 to 86400 seconds (got 0)"},
		{name: "fractional expiry", args: args("message send --user u --expires-after 1.5s"), wantErr: "--expires-after: must be whole seconds (got 1.5s)"},
		{name: "argument", args: args("message send --user u hello"), wantErr: "expects no arguments (the user is --user)"},
	})
}

func TestNewCmdToken(t *testing.T) {
	t.Parallel()
	testParse(t, NewCmdToken, nil, []parseCase[TokenOptions]{
		{name: "scope", args: args("token --scope alexa:skill_messaging"), want: TokenOptions{Scope: "alexa:skill_messaging", Timeout: DefaultTimeout}},
		{name: "refresh", args: args("token --refresh --timeout 1m"), want: TokenOptions{Refresh: true, Timeout: time.Minute}},
		{name: "both", args: args("token --refresh --scope s"), wantErr: "--scope and --refresh exclude each other"},
		{name: "neither", args: args("token"), wantErr: "token: needs --scope SCOPE (such as alexa:skill_messaging) or --refresh"},
		{name: "argument", args: args("token alexa:skill_messaging"), wantErr: "expects no arguments (the scope is --scope)"},
	})
}

func TestNewCmdBulk(t *testing.T) {
	t.Parallel()
	msg := BulkOptions{Kind: bulk.KindMessage, Input: "in.jsonl", Concurrency: bulk.DefaultConcurrency, MaxThrottleWait: bulk.DefaultMaxThrottleWait,
		ProgressInterval: DefaultProgressInterval, Timeout: DefaultTimeout}
	with := func(o BulkOptions, change func(*BulkOptions)) BulkOptions {
		change(&o)
		return o
	}
	testParse(t, NewCmdBulkMessage, inBulk, []parseCase[BulkOptions]{
		{name: "defaults", args: args("bulk message --input in.jsonl"), want: msg},
		{name: "every flag", args: args("bulk message --input - --journal j --failures f --concurrency 4 --rate 2.5 --max-throttle-wait 0 --at-most-once"),
			want: with(msg, func(o *BulkOptions) {
				o.Input, o.Journal, o.Failures, o.Concurrency, o.Rate, o.MaxThrottleWait, o.AtMostOnce = "-", "j", "f", 4, 2.5, 0, true
			})},
		{name: "progress interval", vars: map[string]string{EnvProgressInterval: "1s"}, args: args("bulk message --input in.jsonl"),
			want: with(msg, func(o *BulkOptions) { o.ProgressInterval = time.Second })},
		{name: "timeout given", args: args("--timeout 1m bulk message --input in.jsonl"), want: with(msg, func(o *BulkOptions) { o.Timeout, o.TimeoutGiven = time.Minute, true })},
		{name: "no input", args: args("bulk message"), wantErr: "alexa-oos bulk message: --input FILE is required"},
		{name: "concurrency", args: args("bulk message --input in.jsonl --concurrency 0"), wantErr: "--concurrency: must be at least 1 (got 0)"},
		{name: "negative rate", args: args("bulk message --input in.jsonl --rate -1"), wantErr: "--rate: must be a number of requests per second"},
		{name: "rate not a number", args: args("bulk message --input in.jsonl --rate NaN"), wantErr: "(got NaN)"},
		{name: "negative throttle wait", args: args("bulk message --input in.jsonl --max-throttle-wait -1s"), wantErr: "--max-throttle-wait: must be a duration such as 5m"},
		{name: "bad progress interval", vars: map[string]string{EnvProgressInterval: "soon"}, args: args("bulk message --input in.jsonl"), wantErr: EnvProgressInterval + `: must be a positive duration such as 5s (got "soon")`},
		{name: "stage is for proactive", args: args("bulk message --input in.jsonl --stage live"), wantErr: "unknown flag: --stage"},
	}, EnvProgressInterval)

	ev := with(msg, func(o *BulkOptions) { o.Kind, o.Stage = bulk.KindProactive, proactive.Development })
	testParse(t, NewCmdBulkProactive, inBulk, []parseCase[BulkOptions]{
		{name: "proactive", args: args("bulk proactive --input in.jsonl"), want: ev},
		{name: "live", args: args("bulk proactive --input in.jsonl --stage Live"), want: with(ev, func(o *BulkOptions) { o.Stage = proactive.Live })},
		{name: "bad stage", args: args("bulk proactive --input in.jsonl --stage prod"), wantErr: `--stage: must be development or live (got "prod")`},
		{name: "at most once is for messages", args: args("bulk proactive --input in.jsonl --at-most-once"), wantErr: "unknown flag: --at-most-once"},
	}, EnvProgressInterval)

	// DataStore keeps to Alexa's write limit unless told otherwise; the
	// delivery deadline is read when the job starts, not when parsing.
	ds := with(msg, func(o *BulkOptions) { o.Kind, o.Rate = bulk.KindDataStore, bulk.DefaultDataStoreRate })
	testParse(t, NewCmdBulkDataStore, inBulk, []parseCase[BulkOptions]{
		{name: "datastore", args: args("bulk datastore --input in.jsonl"), want: ds},
		{name: "no cap", args: args("bulk datastore --input in.jsonl --rate 0"), want: with(ds, func(o *BulkOptions) { o.Rate = 0 })},
		{name: "queued and until", args: args("bulk datastore --input in.jsonl --queued q.jsonl --attempt-delivery-until 2h --journal j"),
			want: with(ds, func(o *BulkOptions) { o.Queued, o.AttemptDeliveryUntil, o.Journal = "q.jsonl", "2h", "j" })},
		{name: "negative rate", args: args("bulk datastore --input in.jsonl --rate -1"), wantErr: "--rate: must be a number of requests per second"},
		{name: "no input", args: args("bulk datastore"), wantErr: "alexa-oos bulk datastore: --input FILE is required"},
		{name: "at most once is for messages", args: args("bulk datastore --input in.jsonl --at-most-once"), wantErr: "unknown flag: --at-most-once"},
	}, EnvProgressInterval)
}

func TestNewCmdDatastore(t *testing.T) {
	t.Parallel()
	user := DatastoreSendOptions{To: DatastoreTarget{User: "u"}, Timeout: DefaultTimeout}
	devices := DatastoreSendOptions{To: DatastoreTarget{Devices: []string{"a", "b"}, Until: testNow.Add(2 * time.Hour)}, Timeout: DefaultTimeout}
	testParse(t, NewCmdDatastorePut, inDatastore, []parseCase[DatastorePutOptions]{
		{name: "content JSON", args: []string{"datastore", "put", "--user", "u", "--namespace", "n", "--key", "k", "--content-json", `{"a": 1}`},
			want: DatastorePutOptions{DatastoreSendOptions: user, Namespace: "n", Key: "k", Content: json.RawMessage(`{"a": 1}`)}},
		{name: "content file, devices, until", args: args("datastore put --device a --device b --namespace n --key k --content c.json --create-namespace --attempt-delivery-until 2h"),
			want: DatastorePutOptions{DatastoreSendOptions: devices, Namespace: "n", Key: "k", ContentFile: "c.json", CreateNamespace: true}},
		{name: "until as a time", args: args("datastore put --user u --namespace n --key k --content-json 1 --attempt-delivery-until 2030-01-02T05:00:00+01:00"),
			want: DatastorePutOptions{DatastoreSendOptions: DatastoreSendOptions{To: DatastoreTarget{User: "u", Until: time.Date(2030, 1, 2, 4, 0, 0, 0, time.UTC)}, Timeout: DefaultTimeout},
				Namespace: "n", Key: "k", Content: json.RawMessage(`1`)}},
		{name: "no target", args: args("datastore put --namespace n --key k --content-json 1"), wantErr: "needs --user USER_ID"},
		{name: "both targets", args: args("datastore put --user u --device d --namespace n --key k --content-json 1"), wantErr: "--user and --device exclude each other"},
		{name: "no content", args: args("datastore put --user u --namespace n --key k"), wantErr: "the flags in the group [content content-json] is required"},
		{name: "empty content", args: []string{"datastore", "put", "--user", "u", "--namespace", "n", "--key", "k", "--content-json", ""}, wantErr: "--content-json: is empty"},
		{name: "past duration", args: args("datastore put --user u --namespace n --key k --content-json 1 --attempt-delivery-until -2h"), wantErr: "--attempt-delivery-until: must be a time"},
		{name: "no key", args: args("datastore put --user u --namespace n --content-json 1"), wantErr: `required flag(s) "key" not set`},
	})
	testParse(t, NewCmdDatastoreRemove, inDatastore, []parseCase[DatastoreRemoveOptions]{
		{name: "namespace", args: args("datastore remove --user u --namespace n"), want: DatastoreRemoveOptions{DatastoreSendOptions: user, Namespace: "n"}},
		{name: "object", args: args("datastore remove --user u --namespace n --key k"), want: DatastoreRemoveOptions{DatastoreSendOptions: user, Namespace: "n", Key: "k", HasKey: true}},
		{name: "empty key", args: []string{"datastore", "remove", "--user", "u", "--namespace", "n", "--key", ""}, want: DatastoreRemoveOptions{DatastoreSendOptions: user, Namespace: "n", HasKey: true}},
		{name: "no namespace", args: args("datastore remove --user u"), wantErr: `required flag(s) "namespace" not set`},
	})
	testParse(t, NewCmdDatastoreClear, inDatastore, []parseCase[DatastoreClearOptions]{
		{name: "devices", args: args("datastore clear --device a --device b --attempt-delivery-until 2h"), want: DatastoreClearOptions{devices}},
		{name: "no target", args: args("datastore clear"), wantErr: "needs --user USER_ID"},
	})
	testParse(t, NewCmdDatastoreQueue, inDatastore, []parseCase[DatastoreQueueOptions]{
		{name: "id", args: args("datastore queue q1 --page-size 5"), want: DatastoreQueueOptions{ID: "q1", PageSize: 5, Timeout: DefaultTimeout}},
		{name: "page size", args: args("datastore queue q1 --page-size 1000"), wantErr: "--page-size: must be 1 to 100, or 0 for the server's default (got 1000)"},
		{name: "no id", args: args("datastore queue"), wantErr: "expects QUEUED_RESULT_ID"},
	})
	testParse(t, NewCmdDatastoreCancel, inDatastore, []parseCase[DatastoreCancelOptions]{
		{name: "id", args: args("datastore cancel q1"), want: DatastoreCancelOptions{ID: "q1", Timeout: DefaultTimeout}},
		{name: "two ids", args: args("datastore cancel q1 q2"), wantErr: "(got 2 arguments)"},
	})
}

// TestStringEnumFlag: an enum flag lists its values in the help and in
// shell completion, stores a value in its option's spelling, and refuses
// any other value naming the flag, the value and the values it takes.
func TestStringEnumFlag(t *testing.T) {
	t.Parallel()
	newCmd := func(p *string) *cobra.Command {
		cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }, SilenceErrors: true, SilenceUsage: true}
		stringEnumFlag(cmd, cmd.Flags(), p, "color", "c", "red", []string{"red", "green", "blue"}, nil, "a color")
		cmd.SetFlagErrorFunc(flagError)
		cmd.SetOut(&bytes.Buffer{})
		return cmd
	}
	for in, want := range map[string]string{"": "red", "-c green": "green", "--color=BLUE": "blue", "-c Green": "green"} {
		var got string
		cmd := newCmd(&got)
		cmd.SetArgs(args(in))
		if err := cmd.Execute(); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	var got string
	cmd := newCmd(&got)
	cmd.SetArgs(args("--color purple"))
	err := cmd.Execute()
	if err == nil || err.Error() != `-c/--color: must be red, green or blue (got "purple")` {
		t.Errorf("error %v", err)
	}
	if code := newFactory(Env{}).finish(err); code != ExitUsage {
		t.Errorf("exit %d, want %d", code, ExitUsage)
	}
	var help bytes.Buffer
	cmd = newCmd(&got)
	cmd.SetOut(&help)
	cmd.SetArgs([]string{"--help"})
	cmd.Execute()
	if !strings.Contains(help.String(), `a color: {red|green|blue} (default "red")`) {
		t.Errorf("help:\n%s", help.String())
	}
	if complete, ok := cmd.GetFlagCompletionFunc("color"); !ok {
		t.Error("no completion")
	} else if values, _ := complete(cmd, nil, ""); strings.Join(values, " ") != "red green blue" {
		t.Errorf("completion offers %q", values)
	}
}

// TestOutputEnumFlag: -o is an enum flag of the root, which every command's
// output and errors follow.
func TestOutputEnumFlag(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		json bool
		err  string
	}{
		{args("proactive schemas"), false, ""},
		{args("-o json proactive schemas"), true, ""},
		{args("proactive schemas --output JSON"), true, ""},
		{args("-o yaml proactive schemas"), false, `-o/--output: must be text or json (got "yaml")`},
	} {
		f := newFactory(Env{})
		var ran bool
		root := newRoot(f, proactiveGroup(f, NewCmdProactiveSchemas(f, func(o *ProactiveSchemasOptions) error {
			ran = o.IO.JSON() == tt.json
			return nil
		})))
		root.SetArgs(tt.args)
		err := root.ExecuteContext(context.Background())
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.err)
		case tt.err == "" && (err != nil || !ran):
			t.Errorf("%v: error %v, ran with JSON %v: want JSON %v", tt.args, err, f.IO.JSON(), tt.json)
		}
	}
}
