package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/spf13/cobra"
)

// rules are the validation rules of the proactive commands: the
// library's, on the command's clock, with --any-locale.
func (a *app) rules() proactive.Rules {
	r := proactive.DefaultRules()
	r.Now = a.now
	r.AnyLocale = a.anyLocale
	return r
}

func (a *app) proactiveCommand() *cobra.Command {
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
	cmd.PersistentFlags().BoolVar(&a.anyLocale, "any-locale", false, "accept any language-REGION locale, not only those Alexa is known to support")
	cmd.AddCommand(a.proactiveSendCommand(), a.proactiveValidateCommand(), a.proactivePreviewCommand(),
		a.proactiveNewCommand(), a.proactiveSchemasCommand())
	return group(cmd)
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

// loadRequest reads, decodes and fills a request file; it returns the
// notes of Fill and the warnings about the request.
func (a *app) loadRequest(file string) (name string, req *proactive.Request, notes, warnings []string, err error) {
	name, data, err := a.readJSON("", file)
	if err != nil {
		return name, nil, nil, nil, err
	}
	req, err = decodeRequest(name, data)
	if err != nil {
		return name, nil, nil, nil, err
	}
	notes = req.Fill(a.now(), proactive.NewReferenceID())
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

func (a *app) proactiveSendCommand() *cobra.Command {
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
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			st, err := proactive.ParseStage(stage)
			if err != nil {
				return usagef("--%v", err)
			}
			t, err := a.resolve(false)
			if err != nil {
				return err
			}
			name, req, notes, warnings, err := a.loadRequest(args[0])
			if err != nil {
				return err
			}
			for _, w := range warnings {
				a.warn("%s: %s", name, w)
			}
			rules := a.rules()
			if err := rules.Validate(req); err != nil {
				return about(name, err)
			}
			if !a.json() {
				for _, n := range notes {
					fmt.Fprintln(a.env.Stdout, n)
				}
			}
			ctx, cancel := a.context(cmd)
			defer cancel()
			// The built-in emulator judges with the same rules (--any-locale).
			a.connectWith(t, "sending to the built-in emulator at %s", alexatest.Options{Rules: &rules})
			defer t.close()
			res, err := proactive.NewClient(t.cfg, proactive.WithRules(rules)).Create(ctx, req, st)
			var dup *alexa.Error
			switch {
			case errors.Is(err, alexa.ErrDuplicate) && errors.As(err, &dup):
				// Alexa has this event already: what was asked is done.
				res = &proactive.Result{StatusCode: dup.StatusCode, Attempts: dup.Attempts}
			case err != nil:
				return err
			}
			out := sendResult{
				Result: "accepted", Status: res.StatusCode, Attempts: res.Attempts, AlreadyAccepted: res.AlreadyAccepted,
				Stage: strings.ToLower(string(st)), Path: st.Path(), ReferenceID: req.ReferenceID, Event: req.Event.Name,
				Audience: string(req.RelevantAudience.Type), User: req.RelevantAudience.User(), Filled: notes, Warnings: warnings,
			}
			if dup != nil {
				out.Result = "alreadyDelivered"
			}
			if sp, err := rules.Preview(req); err == nil {
				out.Preview = sp
			}
			if t.srv != nil && dup == nil {
				if evs := t.srv.Events(); len(evs) > 0 {
					ev := evs[len(evs)-1]
					out.Emulator = &emulatorEvent{URL: t.srv.URL, Stage: string(ev.Stage), Audience: ev.Audience,
						ReferenceID: ev.Request.ReferenceID, Event: ev.Request.Event.Name}
				}
			}
			if a.json() {
				a.printJSON(out)
				return nil
			}
			w := a.env.Stdout
			if dup != nil {
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
			return nil
		}),
	}
	cmd.Flags().StringVar(&stage, "stage", "development", "skill stage: development or live")
	return cmd
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

func (a *app) proactiveValidateCommand() *cobra.Command {
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
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			var reports []fileReport
			invalid := 0
			for _, file := range args {
				r := a.validateFile(file)
				if !r.Valid {
					invalid++
				}
				reports = append(reports, r)
			}
			if a.json() {
				a.printJSON(struct {
					Valid bool         `json:"valid"`
					Files []fileReport `json:"files"`
				}{invalid == 0, reports})
			}
			if invalid > 0 {
				return &cliError{code: ExitUsage, kind: kindValidation, quiet: true,
					msg: fmt.Sprintf("%d of %d files invalid", invalid, len(args))}
			}
			return nil
		}),
	}
}

// validateFile checks one file and prints its lines.
func (a *app) validateFile(file string) fileReport {
	name, req, notes, warnings, err := a.loadRequest(file)
	r := fileReport{File: name, Filled: notes, Warnings: warnings}
	if !a.verbose {
		r.Filled = nil
	}
	if err != nil {
		r.Error = a.classify(err).msg
		if !a.json() {
			fmt.Fprintln(a.env.Stdout, r.Error)
		}
		return r
	}
	r.Violations = a.rules().Check(req)
	r.Valid = len(r.Violations) == 0
	for _, n := range r.Filled {
		fmt.Fprintf(a.env.Stderr, "%s: note: %s (as send would)\n", name, n)
	}
	for _, w := range warnings {
		a.warn("%s: %s", name, w)
	}
	if a.json() {
		return r
	}
	if r.Valid {
		fmt.Fprintf(a.env.Stdout, "%s: ok\n", name)
	}
	for _, v := range r.Violations {
		fmt.Fprintf(a.env.Stdout, "%s: %s\n", name, v)
	}
	if h := localeHint(r.Violations); h != "" {
		fmt.Fprintf(a.env.Stderr, "alexa-oos: %s: hint: %s\n", name, h)
	}
	return r
}

func (a *app) proactivePreviewCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "preview FILE|-",
		Short: "Print the sentence Alexa will say, per locale",
		Long: `Print, for each localizedAttributes entry of the request in FILE, the
English sentence Alexa will speak, as "LOCALE: sentence". Offline: no
credentials, no network. Times are said in UTC; the sentences of some
schemas are approximations ("proactive schemas" says which).`,
		Args: exactArgs(1, "one FILE (or - for stdin)"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			name, req, _, warnings, err := a.loadRequest(args[0])
			if err != nil {
				return err
			}
			for _, w := range warnings {
				a.warn("%s: %s", name, w)
			}
			sp, err := a.rules().Preview(req)
			if err != nil {
				if e := about(name, err); e != err {
					return e
				}
				return invalidFile(name, "%v", err)
			}
			if a.json() {
				a.printJSON(struct {
					Preview []proactive.Spoken `json:"preview"`
				}{sp})
				return nil
			}
			printPreview(a.env.Stdout, sp, "")
			return nil
		}),
	}
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

func (a *app) proactiveNewCommand() *cobra.Command {
	var user string
	var locales []string
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
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			info, ok := findSchema(args[0])
			if !ok {
				return usagef("unknown schema %q: known schemas are %s", args[0], strings.Join(schemaNames(), ", "))
			}
			audience := proactive.ToAllSubscribers()
			if cmd.Flags().Changed("unicast") {
				if user == "" {
					return usagef("--unicast: needs a userId")
				}
				audience = proactive.ToUser(user)
			}
			req, err := a.rules().Skeleton(info.Name, locales, audience)
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
			return a.writeJSON(struct {
				Event               proactive.Event                `json:"event"`
				LocalizedAttributes []proactive.LocalizedAttribute `json:"localizedAttributes"`
				RelevantAudience    plainAudience                  `json:"relevantAudience"`
			}{req.Event, req.LocalizedAttributes, aud}, "  ")
		}),
	}
	cmd.Flags().StringVar(&user, "unicast", "", "send to one customer: their userId")
	cmd.Flags().StringArrayVar(&locales, "locale", nil, "a localizedAttributes entry for this locale (repeatable; default en-US)")
	return cmd
}

func (a *app) proactiveSchemasCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "schemas",
		Short: "List the event schemas and what Alexa says for each",
		Args:  exactArgs(0, "no arguments"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
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
			if a.json() {
				a.printJSON(struct {
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
			a.env.Stdout.Write(b.Bytes())
			return nil
		}),
	}
}
