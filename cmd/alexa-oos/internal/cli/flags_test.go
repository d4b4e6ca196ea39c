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

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/alexa-oos/alexa/queue"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/cobra"
)

// testNow is the clock of the flag tests.
var testNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// parseCase is one command line, and the options it must give the command
// (or the usage error it must be refused with, before the command runs:
// wantErr is in the error, wantStderr in what the error reports).
type parseCase[O any] struct {
	name       string
	vars       map[string]string
	args       []string
	want       O
	wantErr    string
	wantStderr string
}

// ignoreDeps leaves out of comparisons what options hold of the Factory.
var ignoreDeps = cmp.Options{
	cmpopts.IgnoreTypes((*IOStreams)(nil), func() time.Time { return time.Time{} }, func(bool) (*target, error) { return nil, nil },
		func(string) string { return "" }, func() (alexa.Credentials, error) { return alexa.Credentials{}, nil }),
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
				if !strings.Contains(stderr.String(), tt.wantStderr) {
					t.Errorf("stderr %q, want %q in it", stderr.String(), tt.wantStderr)
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
func inEmulator(f *Factory, c *cobra.Command) *cobra.Command  { return emulatorGroup(f, c) }
func inQueue(f *Factory, c *cobra.Command) *cobra.Command     { return queueGroup(f, c) }

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
		{name: "no input", args: args("bulk message"), wantErr: "--input: is required: a JSONL file"},
		{name: "concurrency", args: args("bulk message --input in.jsonl --concurrency 0"), wantErr: "--concurrency: must be 1 to 4096 (got 0)"},
		{name: "concurrency too high", args: args("bulk message --input in.jsonl --concurrency 10000000"), wantErr: "--concurrency: must be 1 to 4096 (got 10000000)"},
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
		{name: "no input", args: args("bulk datastore"), wantErr: "--input: is required: a JSONL file"},
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

// The emulator's flags are checked before it reads a file or listens:
// --skill-ca-file and --client-secret-file are read by the run.
func TestNewCmdEmulator(t *testing.T) {
	t.Parallel()
	def := EmulatorOptions{Addr: DefaultEmulatorAddr, MaxRecords: alexatest.DefaultMaxRecords, ReadTimeout: alexatest.DefaultReadTimeout,
		Skill: EmulatorSkill{ApplicationID: alexatest.DefaultApplicationID, FirstRetry: alexatest.AlexaFirstRetry}}
	with := func(change func(*EmulatorOptions)) EmulatorOptions {
		o := def
		change(&o)
		return o
	}
	testParse(t, NewCmdEmulator, nil, []parseCase[EmulatorOptions]{
		{name: "defaults", args: args("emulator"), want: def},
		{name: "addr", args: args("emulator --addr 127.0.0.1:0"), want: with(func(o *EmulatorOptions) { o.Addr = "127.0.0.1:0" })},
		{name: "skill endpoint", args: args("emulator --skill-endpoint http://127.0.0.1:8080/alexa --skill-id amzn1.ask.skill.X"),
			want: with(func(o *EmulatorOptions) {
				o.Skill.Endpoint, o.Skill.ApplicationID = "http://127.0.0.1:8080/alexa", "amzn1.ask.skill.X"
			})},
		{name: "skill CA file, read by the run", args: args("emulator --skill-endpoint https://127.0.0.1/ --skill-ca-file missing.pem"),
			want: with(func(o *EmulatorOptions) { o.Skill.Endpoint, o.Skill.CAFile = "https://127.0.0.1/", "missing.pem" })},
		{name: "insecure on loopback", args: args("emulator --skill-endpoint https://localhost:8443/ --skill-insecure"),
			want: with(func(o *EmulatorOptions) { o.Skill.Endpoint, o.Skill.Insecure = "https://localhost:8443/", true })},
		{name: "allow unsubscribed", args: args("emulator --allow-unsubscribed"), want: with(func(o *EmulatorOptions) { o.Skill.AllowUnsubscribed = true })},
		{name: "open", args: args("emulator --open"), want: with(func(o *EmulatorOptions) { o.Open = true })},
		{name: "skill retries off", args: args("emulator --skill-first-retry 0"), want: with(func(o *EmulatorOptions) { o.Skill.FirstRetry = 0 })},
		{name: "skill retries sooner", args: args("emulator --skill-first-retry 2s"), want: with(func(o *EmulatorOptions) { o.Skill.FirstRetry = 2 * time.Second })},
		{name: "negative skill retry", args: args("emulator --skill-first-retry -1s"), wantErr: "--skill-first-retry: must be 0 or more, 0 to send once (got -1s)"},
		{name: "max records", args: args("emulator --max-records 100000"), want: with(func(o *EmulatorOptions) { o.MaxRecords = 100000 })},
		{name: "keep no records", args: args("emulator --max-records 0"), want: with(func(o *EmulatorOptions) { o.MaxRecords = 0 })},
		{name: "scopes", args: args("emulator --scope alexa::proactive_events --scope alexa:skill_messaging"),
			want: with(func(o *EmulatorOptions) { o.Scopes = []string{"alexa::proactive_events", "alexa:skill_messaging"} })},
		{name: "rate limit, read timeout, remote admin", args: args("emulator --rate-limit 2.5 --read-timeout 3s --allow-remote-admin"),
			want: with(func(o *EmulatorOptions) { o.RateLimit, o.ReadTimeout, o.AllowRemoteAdmin = 2.5, 3*time.Second, true })},
		{name: "secret file, read by the run", args: args("--client-id c --client-secret-file missing.txt emulator"),
			want: with(func(o *EmulatorOptions) { o.ClientSecretFile = "missing.txt" })},
		{name: "bad max records", args: args("emulator --max-records -1"), wantErr: "--max-records: must be 0 or more, 0 to keep none (got -1)"},
		{name: "max records not a number", args: args("emulator --max-records many"), wantErr: `invalid argument "many" for "--max-records"`},
		{name: "empty scope", args: []string{"emulator", "--scope", ""}, wantErr: `--scope: must be one scope, non-empty and without spaces, such as alexa::proactive_events (got "")`},
		{name: "two scopes in one", args: []string{"emulator", "--scope", "a b"}, wantErr: `(got "a b")`},
		{name: "negative rate limit", args: args("emulator --rate-limit -1"), wantErr: "--rate-limit: must be a number of requests per second, 0 for no limit (got -1)"},
		{name: "rate limit not a number", args: args("emulator --rate-limit NaN"), wantErr: "(got NaN)"},
		{name: "no read timeout", args: args("emulator --read-timeout 0s"), wantErr: "--read-timeout: must be more than 0 (got 0s)"},
		{name: "plain http skill", args: args("emulator --skill-endpoint http://skill.example.com/"), wantErr: "--skill-endpoint: may be plain http only on a loopback host"},
		{name: "relative skill endpoint", args: args("emulator --skill-endpoint skill.example.com"), wantErr: "--skill-endpoint: must be an absolute http or https URL"},
		{name: "insecure off loopback", args: args("emulator --skill-endpoint https://skill.example.com/ --skill-insecure"), wantErr: "--skill-endpoint: may skip certificate verification only on a loopback host"},
		{name: "insecure without endpoint", args: args("emulator --skill-insecure"), wantErr: "--skill-insecure: needs --skill-endpoint"},
		{name: "CA file without endpoint", args: args("emulator --skill-ca-file ca.pem"), wantErr: "--skill-ca-file: needs --skill-endpoint"},
		{name: "CA file and insecure", args: args("emulator --skill-endpoint https://127.0.0.1/ --skill-ca-file ca.pem --skill-insecure"), wantErr: "--skill-ca-file and --skill-insecure: give one"},
		{name: "empty skill id", args: []string{"emulator", "--skill-endpoint", "https://127.0.0.1/", "--skill-id", ""}, wantErr: "--skill-id: must not be empty"},
		{name: "argument", args: args("emulator 127.0.0.1:0"), wantErr: "alexa-oos emulator: expects no arguments (got 1 arguments)"},
	})
}

// The admin subcommands check --user, --event and --emulator before any
// request; the environment's emulator URL is looked up by the run.
func TestNewCmdEmulatorAdmin(t *testing.T) {
	t.Parallel()
	const user, event = "amzn1.ask.account.X", "AMAZON.WeatherAlert.Activated"
	admin := EmulatorAdminOptions{Timeout: DefaultTimeout}
	sub := EmulatorSubscribeOptions{EmulatorAdminOptions: admin, User: user, Event: event, Subscribe: true}
	testParse(t, NewCmdEmulatorSubscribe, inEmulator, []parseCase[EmulatorSubscribeOptions]{
		{name: "subscribe", args: args("emulator subscribe --user " + user + " --event " + event), want: sub},
		{name: "emulator and timeout", args: args("--timeout 5s emulator subscribe --user " + user + " --event " + event + " --emulator http://127.0.0.1:1/"),
			want: EmulatorSubscribeOptions{EmulatorAdminOptions: EmulatorAdminOptions{Emulator: "http://127.0.0.1:1/", Timeout: 5 * time.Second}, User: user, Event: event, Subscribe: true}},
		{name: "no user", args: args("emulator subscribe --event " + event), wantErr: "emulator subscribe: 1 problem, nothing sent", wantStderr: "--user: is required"},
		{name: "no event", args: args("emulator subscribe --user " + user), wantErr: "emulator subscribe: 1 problem", wantStderr: "--event: is required"},
		{name: "neither", args: args("emulator subscribe"), wantErr: "emulator subscribe: 2 problems"},
		{name: "event with a space", args: []string{"emulator", "subscribe", "--user", user, "--event", "a b"}, wantStderr: "--event: must not contain spaces", wantErr: "1 problem"},
		{name: "bad emulator URL", args: args("emulator subscribe --user " + user + " --event " + event + " --emulator ftp://x"), wantErr: `--emulator: must be the emulator's URL, such as http://127.0.0.1:8934 (got "ftp://x")`},
		{name: "argument", args: args("emulator subscribe --user " + user + " --event " + event + " extra"), wantErr: "expects no arguments"},
	})
	unsub := sub
	unsub.Subscribe = false
	testParse(t, NewCmdEmulatorUnsubscribe, inEmulator, []parseCase[EmulatorSubscribeOptions]{
		{name: "unsubscribe", args: args("emulator unsubscribe --user " + user + " --event " + event), want: unsub},
		{name: "no event", args: args("emulator unsubscribe --user " + user), wantErr: "emulator unsubscribe: 1 problem", wantStderr: "--event: is required"},
	})
	testParse(t, NewCmdEmulatorSubscriptions, inEmulator, []parseCase[EmulatorSubscriptionsOptions]{
		{name: "all", args: args("emulator subscriptions"), want: EmulatorSubscriptionsOptions{EmulatorAdminOptions: admin}},
		{name: "one user", args: args("emulator subscriptions --user " + user), want: EmulatorSubscriptionsOptions{EmulatorAdminOptions: admin, User: user}},
		{name: "bad emulator URL", args: args("emulator subscriptions --emulator 127.0.0.1:8934"), wantErr: "--emulator: must be the emulator's URL"},
	})
	testParse(t, NewCmdEmulatorGrant, inEmulator, []parseCase[EmulatorGrantOptions]{
		{name: "grant", args: args("emulator grant --user " + user), want: EmulatorGrantOptions{EmulatorAdminOptions: admin, User: user}},
		{name: "no user", args: args("emulator grant"), wantErr: "emulator grant: 1 problem", wantStderr: "--user: is required"},
		{name: "bad emulator URL", args: args("emulator grant --user " + user + " --emulator http://"), wantErr: "--emulator: must be the emulator's URL"},
	})
}

// The queue commands take the group's flags; the database URL of the
// environment is looked up by the run, not when parsing.
func TestNewCmdQueue(t *testing.T) {
	t.Parallel()
	db := QueueOptions{DB: QueueDB{Queue: queue.DefaultQueue}}
	enq := QueueEnqueueOptions{QueueOptions: db, Input: "in.jsonl", Kind: "auto", Stage: proactive.Development, Timeout: DefaultTimeout}
	withEnq := func(change func(*QueueEnqueueOptions)) QueueEnqueueOptions {
		o := enq
		change(&o)
		return o
	}
	testParse(t, NewCmdQueueEnqueue, inQueue, []parseCase[QueueEnqueueOptions]{
		{name: "defaults", vars: map[string]string{EnvDatabaseURL: "postgres://u:p@h/db"}, args: args("queue enqueue --input in.jsonl"), want: enq},
		{name: "group flags", args: args("queue --database-url postgres://h/db --schema s enqueue --input - --queue q -v"),
			want: withEnq(func(o *QueueEnqueueOptions) {
				o.Input, o.DB, o.Verbose = "-", QueueDB{URL: "postgres://h/db", Schema: "s", Queue: "q"}, true
			})},
		{name: "kind", args: args("queue enqueue --input in.jsonl --kind datastore"), want: withEnq(func(o *QueueEnqueueOptions) { o.Kind = "datastore" })},
		{name: "kind in any case", args: args("queue enqueue --input in.jsonl --kind Proactive --stage LIVE"),
			want: withEnq(func(o *QueueEnqueueOptions) { o.Kind, o.Stage = "proactive", proactive.Live })},
		{name: "at, a delay", args: args("queue enqueue --input in.jsonl --at 90m"), want: withEnq(func(o *QueueEnqueueOptions) { o.At = testNow.Add(90 * time.Minute) })},
		{name: "at, a time", args: args("queue enqueue --input in.jsonl --at 2030-01-02T05:00:00+01:00"),
			want: withEnq(func(o *QueueEnqueueOptions) { o.At = time.Date(2030, 1, 2, 4, 0, 0, 0, time.UTC) })},
		{name: "priority and timeout", args: args("--timeout 1m queue enqueue --input in.jsonl --priority 4"),
			want: withEnq(func(o *QueueEnqueueOptions) { o.Priority, o.Timeout, o.TimeoutGiven = 4, time.Minute, true })},
		{name: "bad kind", args: args("queue enqueue --input in.jsonl --kind event"), wantErr: `--kind: must be auto, message, proactive or datastore (got "event")`},
		{name: "bad stage", args: args("queue enqueue --input in.jsonl --stage prod"), wantErr: `--stage: must be development or live (got "prod")`},
		{name: "at, no zone", args: args("queue enqueue --input in.jsonl --at 2030-01-02T05:00:00"), wantErr: `--at: must be an RFC 3339 time with its zone`},
		{name: "at, a word", args: args("queue enqueue --input in.jsonl --at tomorrow"), wantErr: `(got "tomorrow")`},
		{name: "at, a negative delay", args: args("queue enqueue --input in.jsonl --at -5m"), wantErr: `--at: a delay must not be negative (got "-5m")`},
		{name: "priority", args: args("queue enqueue --input in.jsonl --priority 5"), wantErr: "--priority: must be 1 (first) to 4 (got 5)"},
		{name: "no input", args: args("queue enqueue"), wantErr: "--input: is required: a JSONL file"},
		{name: "argument", args: args("queue enqueue in.jsonl"), wantErr: "expects no arguments (the input is --input FILE)"},
	})

	work := QueueWorkOptions{QueueOptions: db, Concurrency: queue.DefaultConcurrency, Burst: 1, ProgressInterval: DefaultProgressInterval, Timeout: DefaultTimeout}
	withWork := func(change func(*QueueWorkOptions)) QueueWorkOptions {
		o := work
		change(&o)
		return o
	}
	testParse(t, NewCmdQueueWork, inQueue, []parseCase[QueueWorkOptions]{
		{name: "defaults", args: args("queue work"), want: work},
		{name: "concurrency, rate, burst", args: args("queue work --concurrency 64 --rate 2.5 --burst 10"),
			want: withWork(func(o *QueueWorkOptions) { o.Concurrency, o.Rate, o.Burst = 64, 2.5, 10 })},
		{name: "progress interval and timeout", vars: map[string]string{EnvProgressInterval: "1s"}, args: args("queue work --timeout 10m"),
			want: withWork(func(o *QueueWorkOptions) {
				o.ProgressInterval, o.Timeout, o.TimeoutGiven = time.Second, 10*time.Minute, true
			})},
		{name: "no concurrency", args: args("queue work --concurrency 0"), wantErr: "--concurrency: must be 1 to 4096 (got 0)"},
		{name: "negative rate", args: args("queue work --rate -1"), wantErr: "--rate: must be a number of requests per second (got -1)"},
		{name: "infinite rate", args: args("queue work --rate Inf"), wantErr: "(got +Inf)"},
		{name: "rate not a number", args: args("queue work --rate fast"), wantErr: `invalid argument "fast" for "--rate"`},
		{name: "no burst", args: args("queue work --burst 0"), wantErr: "--burst: must be at least 1 (got 0)"},
		{name: "bad progress interval", vars: map[string]string{EnvProgressInterval: "soon"}, args: args("queue work"), wantErr: EnvProgressInterval + `: must be a positive duration`},
	}, EnvProgressInterval)

	testParse(t, NewCmdQueueStatus, inQueue, []parseCase[QueueStatusOptions]{
		{name: "defaults", args: args("queue status"), want: QueueStatusOptions{QueueOptions: db, Errors: 10, Timeout: DefaultTimeout}},
		{name: "errors", args: args("queue status --errors 0 --queue q"), want: QueueStatusOptions{QueueOptions: QueueOptions{DB: QueueDB{Queue: "q"}}, Timeout: DefaultTimeout}},
		{name: "negative errors", args: args("queue status --errors -1"), wantErr: "--errors: must not be negative (got -1)"},
	})
	testParse(t, NewCmdQueueMigrate, inQueue, []parseCase[QueueMigrateOptions]{
		{name: "migrate", args: args("queue migrate --schema s --timeout 2m"), want: QueueMigrateOptions{QueueOptions: QueueOptions{DB: QueueDB{Schema: "s", Queue: queue.DefaultQueue}}, Timeout: 2 * time.Minute}},
		{name: "argument", args: args("queue migrate now"), wantErr: "expects no arguments"},
	})
	testParse(t, NewCmdQueueUI, inQueue, []parseCase[QueueUIOptions]{
		{name: "defaults", args: args("queue ui"), want: QueueUIOptions{QueueOptions: db, Addr: DefaultUIAddr}},
		{name: "addr", args: args("queue ui --addr 127.0.0.1:0"), want: QueueUIOptions{QueueOptions: db, Addr: "127.0.0.1:0"}},
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
