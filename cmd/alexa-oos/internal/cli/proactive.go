package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/spf13/cobra"
)

// proactiveRules are the validation rules of the proactive commands: the
// library's, on the command's clock, with --any-locale.
func proactiveRules(now func() time.Time, anyLocale bool) proactive.Rules {
	r := proactive.DefaultRules()
	r.Now = now
	r.AnyLocale = anyLocale
	return r
}

// NewCmdProactive returns the proactive command group.
func NewCmdProactive(f *Factory) *cobra.Command {
	return proactiveGroup(f, NewCmdProactiveSend(f, nil), NewCmdProactiveValidate(f, nil), NewCmdProactivePreview(f, nil),
		NewCmdProactiveNew(f, nil), NewCmdProactiveSchemas(f, nil))
}

// proactiveGroup returns the proactive group holding cmds, with the
// --any-locale flag they share.
func proactiveGroup(f *Factory, cmds ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "proactive",
		Short: "Send, check, preview and write Proactive Events requests",
		Long: `Work with Proactive Events requests: JSON files holding the request body
exactly as the Alexa Proactive Events API documents it (timestamp,
referenceId, expiryTime, event, localizedAttributes, relevantAudience).

A file may leave out timestamp, expiryTime and referenceId: send fills them
(now, one hour later, 32 random hex digits) and says so. An expiryTime
already past is refused.

Locales must be ones Alexa supports:
  ` + strings.Join(proactive.SupportedLocales(), " ") + `
--any-locale also accepts any other language-REGION locale, for one Alexa
added after this release.

Files are JSON in UTF-8 (a leading byte order mark is dropped), at most
` + fmt.Sprint(MaxInputBytes>>20) + ` MiB; an empty file is refused.`,
	}
	cmd.PersistentFlags().BoolVar(&f.anyLocale, "any-locale", false, "accept any language-REGION locale, not only those Alexa is known to support")
	cmd.AddCommand(cmds...)
	return group(cmd)
}

// stageFlag defines --stage, a skill stage as proactive.ParseStage reads
// it (development by default), into p.
func stageFlag(cmd *cobra.Command, p *string) {
	stringEnumFlag(cmd, cmd.Flags(), p, "stage", "", "development", []string{"development", "live"}, func(s string) (string, bool) {
		st, err := proactive.ParseStage(s)
		return strings.ToLower(string(st)), err == nil
	}, "skill stage")
}

// parseStage reads the value of a stageFlag, already checked.
func parseStage(s string) proactive.Stage {
	st, _ := proactive.ParseStage(s)
	return st
}

// decodeRequest reads a create request leniently: fields that cannot be
// read are left for Validate to report, unknown ones for
// proactive.Warnings. A JSON object with none of the request's fields is
// refused: it is some other file.
func decodeRequest(name string, data []byte) (*proactive.Request, error) {
	var req proactive.Request
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, invalidFile(name, "not a Proactive Events request (a JSON object): %v", err)
	}
	var top map[string]json.RawMessage
	json.Unmarshal(data, &top)
	if !slices.ContainsFunc(proactive.RequestFields(), func(k string) bool { _, ok := top[k]; return ok }) {
		return nil, invalidFile(name, "not a Proactive Events request: it has none of the fields %s (skill message data goes to \"message send --data-file\")", strings.Join(proactive.RequestFields(), ", "))
	}
	return &req, nil
}

// loadRequest reads, decodes and fills a request file (s.In for "-"); it
// returns the notes of Fill and the warnings about the request.
func loadRequest(s *IOStreams, now time.Time, file string) (name string, req *proactive.Request, notes, warnings []string, err error) {
	name, data, err := s.readJSON("", file)
	if err != nil {
		return name, nil, nil, nil, err
	}
	req, err = decodeRequest(name, data)
	if err != nil {
		return name, nil, nil, nil, err
	}
	notes = req.Fill(now, proactive.NewReferenceID())
	warnings = proactive.Warnings(req)
	return name, req, notes, warnings, nil
}

// sendResult is the -o json form of proactive send.
type sendResult struct {
	// Result is "accepted", or "alreadyDelivered" when Alexa answered 409:
	// an event with this referenceId was accepted before.
	Result   string `json:"result"`
	Status   int    `json:"status"`
	Attempts int    `json:"attempts"`
	// AlreadyAccepted is true when a retry was answered 409: an earlier
	// attempt of this command had landed.
	AlreadyAccepted bool               `json:"alreadyAccepted,omitempty"`
	Stage           string             `json:"stage"`
	Path            string             `json:"path"`
	ReferenceID     string             `json:"referenceId"`
	Event           string             `json:"event"`
	Audience        string             `json:"audience"`
	User            string             `json:"user,omitempty"`
	Filled          []string           `json:"filled,omitempty"`
	Warnings        []string           `json:"warnings,omitempty"`
	Preview         []proactive.Spoken `json:"preview,omitempty"`
	Emulator        *emulatorEvent     `json:"emulator,omitempty"`
}

// emulatorEvent is what the embedded emulator recorded of an event.
type emulatorEvent struct {
	URL         string `json:"url"`
	Stage       string `json:"stage"`
	Audience    string `json:"audience"`
	ReferenceID string `json:"referenceId"`
	Event       string `json:"event"`
}

func audienceText(audience, user string) string {
	if user != "" {
		return audience + " user " + user
	}
	return audience
}

// ProactiveSendOptions are the inputs of proactive send.
type ProactiveSendOptions struct {
	IO     *IOStreams
	Now    func() time.Time
	Target func(needRefresh bool) (*target, error)

	// File is the request file, "-" for IO.In.
	File      string
	Stage     proactive.Stage
	AnyLocale bool
	Timeout   time.Duration
}

// NewCmdProactiveSend returns proactive send; runF, when not nil, runs
// instead of runProactiveSend.
func NewCmdProactiveSend(f *Factory, runF func(*ProactiveSendOptions) error) *cobra.Command {
	opts := &ProactiveSendOptions{IO: f.IO, Now: f.Now, Target: f.Target}
	var stage string
	cmd := &cobra.Command{
		Use:   "send [--stage development|live] FILE|-",
		Short: "Send a Proactive Events request file",
		Long: `Send the request in FILE (or stdin for "-") to the Proactive Events API.

Missing timestamp, expiryTime and referenceId are filled (now, one hour
later, 32 random hex digits) and the output says so. The request is checked
first with the rules of "proactive validate"; an invalid one is not sent
(exit 2). After a successful send the sentences Alexa will say are shown.

When Alexa answers 409, an event with this referenceId was accepted before:
the command says "already delivered" and exits 0 (-o json: "result":
"alreadyDelivered").

Without any credentials or endpoint configured the event goes to the
built-in emulator, and the output shows what it recorded.`,
		Example: `  alexa-oos proactive send examples/weather-alert-multicast.json
  alexa-oos proactive send --stage live -o json event.json`,
		Args: exactArgs(1, "one FILE (or - for stdin)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			opts.Stage = parseStage(stage)
			opts.AnyLocale = f.anyLocale
			opts.Timeout = f.timeout
			if runF != nil {
				return runF(opts)
			}
			return runProactiveSend(cmd.Context(), opts)
		},
	}
	stageFlag(cmd, &stage)
	return cmd
}

// preparedEvent is a request ready to send: read, filled and valid.
type preparedEvent struct {
	target   *target
	rules    proactive.Rules
	name     string // the file, as messages name it
	req      *proactive.Request
	notes    []string // what Fill filled
	warnings []string
}

// runProactiveSend resolves the request, sends it and prints the outcome.
func runProactiveSend(ctx context.Context, opts *ProactiveSendOptions) error {
	p, err := prepareEvent(opts)
	if err != nil {
		return err
	}
	if !opts.IO.JSON() {
		for _, n := range p.notes {
			fmt.Fprintln(opts.IO.Out, n)
		}
	}
	out, err := sendEvent(ctx, opts, p)
	if err != nil {
		return err
	}
	printSendResult(opts.IO, out)
	return nil
}

// prepareEvent resolves the target and reads, fills and checks the
// request, warning about what it ignores. Nothing is sent.
func prepareEvent(opts *ProactiveSendOptions) (*preparedEvent, error) {
	t, err := opts.Target(false)
	if err != nil {
		return nil, err
	}
	p := &preparedEvent{target: t, rules: proactiveRules(opts.Now, opts.AnyLocale)}
	p.name, p.req, p.notes, p.warnings, err = loadRequest(opts.IO, opts.Now(), opts.File)
	if err != nil {
		return nil, err
	}
	for _, w := range p.warnings {
		opts.IO.warnf("%s: %s", p.name, w)
	}
	if err := p.rules.Validate(p.req); err != nil {
		return nil, about(p.name, err)
	}
	return p, nil
}

// sendEvent sends a prepared request and returns what to print: a 409
// (an event with this referenceId was accepted before) is success.
func sendEvent(ctx context.Context, opts *ProactiveSendOptions, p *preparedEvent) (*sendResult, error) {
	ctx, cancel := withTimeout(ctx, opts.Timeout)
	defer cancel()
	t, req, st := p.target, p.req, opts.Stage
	// The built-in emulator judges with the same rules (--any-locale).
	t.connect("sending to the built-in emulator at %s", alexatest.Options{Rules: &p.rules})
	defer t.close()
	res, err := proactive.NewClient(t.cfg, proactive.WithRules(p.rules)).Create(ctx, req, st)
	var dup *alexa.Error
	switch {
	case errors.Is(err, alexa.ErrDuplicate) && errors.As(err, &dup):
		// Alexa has this event already: what was asked is done.
		res = &proactive.Result{StatusCode: dup.StatusCode, Attempts: dup.Attempts}
	case err != nil:
		return nil, err
	}
	out := &sendResult{
		Result: "accepted", Status: res.StatusCode, Attempts: res.Attempts, AlreadyAccepted: res.AlreadyAccepted,
		Stage: strings.ToLower(string(st)), Path: st.Path(), ReferenceID: req.ReferenceID, Event: req.Event.Name,
		Audience: string(req.RelevantAudience.Type), User: req.RelevantAudience.User(), Filled: p.notes, Warnings: p.warnings,
	}
	if dup != nil {
		out.Result = "alreadyDelivered"
	}
	if sp, err := p.rules.Preview(req); err == nil {
		out.Preview = sp
	}
	if t.srv != nil && dup == nil {
		if evs := t.srv.Events(); len(evs) > 0 {
			ev := evs[len(evs)-1]
			out.Emulator = &emulatorEvent{URL: t.srv.URL, Stage: string(ev.Stage), Audience: ev.Audience,
				ReferenceID: ev.Request.ReferenceID, Event: ev.Request.Event.Name}
		}
	}
	return out, nil
}

// printSendResult prints the outcome of proactive send.
func printSendResult(s *IOStreams, out *sendResult) {
	if s.JSON() {
		s.printJSON(out)
		return
	}
	w := s.Out
	if out.Result == "alreadyDelivered" {
		fmt.Fprintf(w, "already delivered: HTTP %d, stage %s: Alexa accepted an event with this referenceId before, and keeps the first\n", out.Status, out.Stage)
	} else {
		fmt.Fprintf(w, "accepted: HTTP %d, stage %s, %s\n", out.Status, out.Stage, attempts(out.Attempts))
	}
	if out.AlreadyAccepted {
		fmt.Fprintln(w, "  (a retry was answered 409: an earlier attempt had landed, so the event was delivered once)")
	}
	fmt.Fprintf(w, "  event:       %s\n  audience:    %s\n  referenceId: %s\n", out.Event, audienceText(out.Audience, out.User), out.ReferenceID)
	if e := out.Emulator; e != nil {
		fmt.Fprintf(w, "emulator recorded: stage %s, audience %s, referenceId %s, event %s\n", e.Stage, e.Audience, e.ReferenceID, e.Event)
	}
	if len(out.Preview) > 0 {
		fmt.Fprintln(w, "Alexa will say:")
		printPreview(w, out.Preview, "  ")
	}
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

func printPreview(w io.Writer, sp []proactive.Spoken, indent string) {
	for _, s := range sp {
		loc := s.Locale
		if loc == "" {
			loc = "*"
		}
		fmt.Fprintf(w, "%s%s: %s\n", indent, loc, s.Text)
	}
}

// fileReport is the -o json form of one file checked by validate.
type fileReport struct {
	File       string            `json:"file"`
	Valid      bool              `json:"valid"`
	Error      string            `json:"error,omitempty"`
	Violations []alexa.Violation `json:"violations,omitempty"`
	Warnings   []string          `json:"warnings,omitempty"`
	Filled     []string          `json:"filled,omitempty"`
}

// ProactiveValidateOptions are the inputs of proactive validate.
type ProactiveValidateOptions struct {
	IO  *IOStreams
	Now func() time.Time

	// Files are the request files, "-" for IO.In.
	Files     []string
	AnyLocale bool
	// Verbose prints what send would fill (-v).
	Verbose bool
}

// NewCmdProactiveValidate returns proactive validate; runF, when not nil,
// runs instead of runProactiveValidate.
func NewCmdProactiveValidate(f *Factory, runF func(*ProactiveValidateOptions) error) *cobra.Command {
	opts := &ProactiveValidateOptions{IO: f.IO, Now: f.Now}
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check Proactive Events request files offline",
		Long: `Check each FILE (or stdin for "-") against the rules of the Proactive
Events API and the schema catalogue, offline: no credentials, no network.

Every problem is printed on stdout as "FILE: field: rule (got value)";
warnings go to stderr and never change the exit status. A missing
timestamp, expiryTime or referenceId is not a problem, as send fills it
(-v says so). Exit status 0 only when every file is valid, else 2.`,
		Example: `  alexa-oos proactive validate examples/*.json`,
		Args:    minArgs(1, "at least one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			opts.AnyLocale = f.anyLocale
			opts.Verbose = f.verbose
			if runF != nil {
				return runF(opts)
			}
			return runProactiveValidate(opts)
		},
	}
}

// runProactiveValidate checks every file and prints the outcome.
func runProactiveValidate(opts *ProactiveValidateOptions) error {
	var reports []fileReport
	invalid := 0
	for _, file := range opts.Files {
		r := validateFile(opts, file)
		if !r.Valid {
			invalid++
		}
		reports = append(reports, r)
	}
	if opts.IO.JSON() {
		opts.IO.printJSON(struct {
			Valid bool         `json:"valid"`
			Files []fileReport `json:"files"`
		}{invalid == 0, reports})
	}
	if invalid > 0 {
		return &cliError{code: ExitUsage, kind: kindValidation, quiet: true,
			msg: fmt.Sprintf("%d of %d files invalid", invalid, len(opts.Files))}
	}
	return nil
}

// validateFile checks one file and prints its lines.
func validateFile(opts *ProactiveValidateOptions, file string) fileReport {
	s := opts.IO
	name, req, notes, warnings, err := loadRequest(s, opts.Now(), file)
	r := fileReport{File: name, Filled: notes, Warnings: warnings}
	if !opts.Verbose {
		r.Filled = nil
	}
	if err != nil {
		r.Error = classify(err, 0).msg
		if !s.JSON() {
			fmt.Fprintln(s.Out, r.Error)
		}
		return r
	}
	r.Violations = proactiveRules(opts.Now, opts.AnyLocale).Check(req)
	r.Valid = len(r.Violations) == 0
	for _, n := range r.Filled {
		fmt.Fprintf(s.ErrOut, "%s: note: %s (as send would)\n", name, n)
	}
	for _, w := range warnings {
		s.warnf("%s: %s", name, w)
	}
	if s.JSON() {
		return r
	}
	if r.Valid {
		fmt.Fprintf(s.Out, "%s: ok\n", name)
	}
	for _, v := range r.Violations {
		fmt.Fprintf(s.Out, "%s: %s\n", name, v)
	}
	if h := localeHint(r.Violations); h != "" {
		fmt.Fprintf(s.ErrOut, "alexa-oos: %s: hint: %s\n", name, h)
	}
	return r
}

// ProactivePreviewOptions are the inputs of proactive preview.
type ProactivePreviewOptions struct {
	IO  *IOStreams
	Now func() time.Time

	// File is the request file, "-" for IO.In.
	File      string
	AnyLocale bool
}

// NewCmdProactivePreview returns proactive preview; runF, when not nil,
// runs instead of runProactivePreview.
func NewCmdProactivePreview(f *Factory, runF func(*ProactivePreviewOptions) error) *cobra.Command {
	opts := &ProactivePreviewOptions{IO: f.IO, Now: f.Now}
	return &cobra.Command{
		Use:   "preview FILE|-",
		Short: "Print the sentence Alexa will say, per locale",
		Long: `Print, for each localizedAttributes entry of the request in FILE, the
English sentence Alexa will speak, as "LOCALE: sentence". Offline: no
credentials, no network. Times are said in UTC; the sentences of some
schemas are approximations ("proactive schemas" says which).`,
		Args: exactArgs(1, "one FILE (or - for stdin)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			opts.AnyLocale = f.anyLocale
			if runF != nil {
				return runF(opts)
			}
			return runProactivePreview(opts)
		},
	}
}

// runProactivePreview prints the sentences of the request.
func runProactivePreview(opts *ProactivePreviewOptions) error {
	name, req, _, warnings, err := loadRequest(opts.IO, opts.Now(), opts.File)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		opts.IO.warnf("%s: %s", name, w)
	}
	sp, err := proactiveRules(opts.Now, opts.AnyLocale).Preview(req)
	if err != nil {
		if e := about(name, err); e != err {
			return e
		}
		return invalidFile(name, "%v", err)
	}
	if opts.IO.JSON() {
		opts.IO.printJSON(struct {
			Preview []proactive.Spoken `json:"preview"`
		}{sp})
		return nil
	}
	printPreview(opts.IO.Out, sp, "")
	return nil
}

// findSchema resolves a schema name: the full name in any case, or its
// middle part ("WeatherAlert").
func findSchema(name string) (proactive.SchemaInfo, bool) {
	for _, s := range proactive.Schemas() {
		parts := strings.Split(s.Name, ".")
		if strings.EqualFold(s.Name, name) || (len(parts) == 3 && strings.EqualFold(parts[1], name)) {
			return s, true
		}
	}
	return proactive.SchemaInfo{}, false
}

func schemaNames() []string {
	var names []string
	for _, s := range proactive.Schemas() {
		names = append(names, s.Name)
	}
	return names
}

// ProactiveNewOptions are the inputs of proactive new.
type ProactiveNewOptions struct {
	IO  *IOStreams
	Now func() time.Time

	// Schema is the schema named by the argument.
	Schema proactive.SchemaInfo
	// Locales are the --locale values; none means en-US.
	Locales []string
	// User is the userId of --unicast; "" means Multicast.
	User      string
	AnyLocale bool
}

// NewCmdProactiveNew returns proactive new; runF, when not nil, runs
// instead of runProactiveNew.
func NewCmdProactiveNew(f *Factory, runF func(*ProactiveNewOptions) error) *cobra.Command {
	opts := &ProactiveNewOptions{IO: f.IO, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "new SCHEMA [--unicast USER_ID] [--locale L]...",
		Short: "Print a valid request skeleton for a schema",
		Long: `Print a valid request for SCHEMA as indented JSON, with the schema's example
payload (its times, if any, a day or two from now), one localizedAttributes
entry per --locale (en-US by default) and a Multicast audience, or Unicast
to --unicast USER_ID. timestamp, expiryTime and referenceId are left out:
send fills them.

SCHEMA is a full name such as AMAZON.WeatherAlert.Activated or its middle
part, such as WeatherAlert, in any case.`,
		Example:   `  alexa-oos proactive new WeatherAlert --locale en-US --locale en-GB > alert.json`,
		Args:      exactArgs(1, "one SCHEMA"),
		ValidArgs: schemaNames(),
		RunE: func(cmd *cobra.Command, args []string) error {
			info, ok := findSchema(args[0])
			if !ok {
				return usagef("unknown schema %q: known schemas are %s", args[0], strings.Join(schemaNames(), ", "))
			}
			opts.Schema = info
			if cmd.Flags().Changed("unicast") && opts.User == "" {
				return usagef("--unicast: needs a userId")
			}
			opts.AnyLocale = f.anyLocale
			if runF != nil {
				return runF(opts)
			}
			return runProactiveNew(opts)
		},
	}
	cmd.Flags().StringVar(&opts.User, "unicast", "", "send to one customer: their userId")
	cmd.Flags().StringArrayVar(&opts.Locales, "locale", nil, "a localizedAttributes entry for this locale (repeatable; default en-US)")
	return cmd
}

// runProactiveNew prints the skeleton.
func runProactiveNew(opts *ProactiveNewOptions) error {
	audience := proactive.ToAllSubscribers()
	if opts.User != "" {
		audience = proactive.ToUser(opts.User)
	}
	req, err := proactiveRules(opts.Now, opts.AnyLocale).Skeleton(opts.Schema.Name, opts.Locales, audience)
	if err != nil {
		return usagef("--locale: %v", err)
	}
	// The audience as a plain struct: its MarshalJSON would
	// HTML-escape the userId.
	type plainAudience struct {
		Type    proactive.AudienceType `json:"type"`
		Payload map[string]any         `json:"payload"`
	}
	aud := plainAudience{req.RelevantAudience.Type, req.RelevantAudience.Payload}
	if aud.Payload == nil {
		aud.Payload = map[string]any{}
	}
	return opts.IO.writeJSON(struct {
		Event               proactive.Event                `json:"event"`
		LocalizedAttributes []proactive.LocalizedAttribute `json:"localizedAttributes"`
		RelevantAudience    plainAudience                  `json:"relevantAudience"`
	}{req.Event, req.LocalizedAttributes, aud}, "  ")
}

// ProactiveSchemasOptions are the inputs of proactive schemas.
type ProactiveSchemasOptions struct {
	IO *IOStreams
}

// NewCmdProactiveSchemas returns proactive schemas; runF, when not nil,
// runs instead of runProactiveSchemas.
func NewCmdProactiveSchemas(f *Factory, runF func(*ProactiveSchemasOptions) error) *cobra.Command {
	opts := &ProactiveSchemasOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "schemas",
		Short: "List the event schemas and what Alexa says for each",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runProactiveSchemas(opts)
		},
	}
}

// runProactiveSchemas lists the schemas.
func runProactiveSchemas(opts *ProactiveSchemasOptions) error {
	type schema struct {
		Name        string `json:"name"`
		EnUSOnly    bool   `json:"enUSOnly"`
		Template    string `json:"template"`
		Approximate bool   `json:"approximate"`
	}
	var list []schema
	for _, s := range proactive.Schemas() {
		list = append(list, schema{s.Name, s.EnUSOnly, s.Template, s.Approximate})
	}
	if opts.IO.JSON() {
		opts.IO.printJSON(struct {
			Schemas []schema `json:"schemas"`
		}{list})
		return nil
	}
	var b bytes.Buffer
	for _, s := range list {
		fmt.Fprintln(&b, s.Name)
		notes := []string{}
		if s.EnUSOnly {
			notes = append(notes, "en-US only")
		}
		if s.Approximate {
			notes = append(notes, "sentence approximated")
		}
		fmt.Fprintf(&b, "  says: %s", s.Template)
		if len(notes) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(notes, "; "))
		}
		b.WriteString("\n")
	}
	opts.IO.Out.Write(b.Bytes())
	return nil
}
