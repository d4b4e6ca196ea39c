package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/internal/httpx"
	"github.com/alexa-oos/alexa/internal/text"
	"github.com/alexa-oos/alexa/internal/transport"
	"github.com/alexa-oos/alexa/internal/validate"
	"github.com/alexa-oos/alexa/proactive"
)

// EnvEmulatorURL is the URL of a running emulator, for the emulator's
// admin subcommands (flag --emulator) and for skills under test (the
// example skill reads it). "alexa-oos emulator" prints the line that sets
// it.
const EnvEmulatorURL = "ALEXA_EMULATOR_URL"

// EmulatorSkill are the emulator's flags about the skill it calls.
type EmulatorSkill struct {
	// Endpoint is --skill-endpoint, the skill's URL; "" calls no skill.
	Endpoint string
	// CAFile is --skill-ca-file, read by the run.
	CAFile string
	// Insecure is --skill-insecure.
	Insecure bool
	// ApplicationID is --skill-id.
	ApplicationID string
	// AllowUnsubscribed is --allow-unsubscribed.
	AllowUnsubscribed bool
	// FirstRetry is --skill-first-retry: the wait before a skill message
	// the skill did not take is sent again, doubling after each failure;
	// 0 sends once.
	FirstRetry time.Duration
}

func (s *EmulatorSkill) register(f *pflag.FlagSet) {
	f.StringVar(&s.Endpoint, "skill-endpoint", "", "your skill's URL: skill messages, subscription changes and grants are sent there, signed (https, or http on loopback)")
	f.StringVar(&s.CAFile, "skill-ca-file", "", "PEM file of the CA that issued the skill endpoint's certificate (default: the system roots)")
	f.BoolVar(&s.Insecure, "skill-insecure", false, "accept any certificate from an https skill endpoint on a loopback host, such as a self-signed one")
	f.StringVar(&s.ApplicationID, "skill-id", alexatest.DefaultApplicationID, "the skill id the requests to the skill carry")
	f.BoolVar(&s.AllowUnsubscribed, "allow-unsubscribed", false, "accept Unicast events to users who have not subscribed to the event (Alexa answers 403)")
	f.DurationVar(&s.FirstRetry, "skill-first-retry", alexatest.AlexaFirstRetry, "send a skill message the skill did not take again after this long, then twice as long after each failure, until it expires, as Alexa does; 0 sends once")
}

// check checks the flags, without reading --skill-ca-file.
func (s *EmulatorSkill) check() error {
	if s.FirstRetry < 0 {
		return usagef("--skill-first-retry: must be 0 or more, 0 to send once (got %s)", s.FirstRetry)
	}
	if s.Endpoint == "" {
		switch {
		case s.CAFile != "":
			return usagef("--skill-ca-file: needs --skill-endpoint")
		case s.Insecure:
			return usagef("--skill-insecure: needs --skill-endpoint")
		}
		return nil
	}
	if err := alexatest.CheckSkillEndpoint(s.Endpoint, s.Insecure); err != nil {
		var ve *alexa.ValidationError
		if errors.As(err, &ve) && len(ve.Violations) > 0 {
			return usagef("--skill-endpoint: %s (got %q)", ve.Violations[0].Rule, ve.Violations[0].Value)
		}
		return usagef("--skill-endpoint: %v", err)
	}
	if s.CAFile != "" && s.Insecure {
		return usagef("--skill-ca-file and --skill-insecure: give one; with --skill-insecure no certificate is checked")
	}
	if s.ApplicationID == "" {
		return usagef("--skill-id: must not be empty (default %s)", alexatest.DefaultApplicationID)
	}
	return nil
}

// options returns the emulator's skill options from the checked flags,
// reading --skill-ca-file.
func (s *EmulatorSkill) options() (alexatest.SkillOptions, error) {
	o := alexatest.SkillOptions{ApplicationID: s.ApplicationID, InsecureSkipVerify: s.Insecure, FirstRetry: s.FirstRetry}
	if s.Endpoint == "" || s.CAFile == "" {
		return o, nil
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return o, usagef("--skill-ca-file: %v", err)
	}
	o.TLSRoots = x509.NewCertPool()
	if !o.TLSRoots.AppendCertsFromPEM(pem) {
		return o, usagef("--skill-ca-file: %s holds no PEM certificate", s.CAFile)
	}
	return o, nil
}

// emulatorURL returns --emulator (flag), or ALEXA_EMULATOR_URL, or
// ALEXA_API_ENDPOINT when it names a loopback host (as the emulator's
// banner sets it), or the emulator's default address; getenv looks up
// the environment.
func emulatorURL(getenv func(string) string, flag string) (string, error) {
	src, u := "--emulator", flag
	if u == "" {
		src, u = EnvEmulatorURL, getenv(EnvEmulatorURL)
	}
	if u == "" {
		if ep := getenv(EnvEndpoint); ep != "" {
			if p, err := url.Parse(ep); err == nil && httpx.IsLoopback(p.Hostname()) {
				src, u = EnvEndpoint, ep
			}
		}
	}
	if u == "" {
		return "http://" + DefaultEmulatorAddr, nil
	}
	return checkEmulatorURL(src, u)
}

// checkEmulatorURL checks u, an emulator's URL from src (a flag or an
// environment variable), and returns it without a trailing slash.
func checkEmulatorURL(src, u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return "", usagef("%s: must be the emulator's URL, such as http://%s (got %q)", src, DefaultEmulatorAddr, u)
	}
	return strings.TrimRight(u, "/"), nil
}

// callAdmin sends a JSON request to the admin path of the emulator at
// base and decodes its JSON answer into out. An error answer is a usage
// error for 400 and 409 (nothing changed), a failure otherwise.
func callAdmin(ctx context.Context, base, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return usagef("--emulator: %v", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", transport.UserAgent(alexa.Config{}))
	resp, err := alexa.NewHTTPClient(alexa.HTTPOptions{}).Do(req)
	if err != nil {
		var ie *alexa.InsecureURLError
		if errors.As(err, &ie) || ctx.Err() != nil {
			return err
		}
		return &cliError{code: ExitFailure, kind: kindNetwork, err: err,
			msg:  fmt.Sprintf("the emulator at %s cannot be reached: %v", base, err),
			hint: fmt.Sprintf(`start it with "alexa-oos emulator", or give its URL with --emulator or %s`, EnvEmulatorURL)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return &cliError{code: ExitFailure, kind: kindNetwork, msg: fmt.Sprintf("reading the emulator's answer: %v", err), err: err}
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		msg := text.OneLine(string(data), 300)
		if json.Unmarshal(data, &e) == nil && e.Message != "" {
			msg = e.Message
		}
		c := &cliError{code: ExitFailure, kind: kindFailed, status: resp.StatusCode, msg: fmt.Sprintf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, msg)}
		switch resp.StatusCode {
		case http.StatusBadRequest, http.StatusConflict:
			c.code, c.kind = ExitUsage, kindUsage
		case http.StatusNotFound:
			c.hint = "is " + base + " an alexa-oos emulator of this version?"
		}
		return c
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &cliError{code: ExitFailure, kind: kindFailed, msg: fmt.Sprintf("%s %s: the answer is not the emulator's JSON: %v", method, path, err)}
	}
	return nil
}

// deliveryLine describes the skill's answer in words.
func deliveryLine(d *alexatest.SkillDelivery) string {
	switch d.State {
	case alexatest.DeliveryDelivered:
		s := fmt.Sprintf("the skill answered %d in %s", d.StatusCode, d.Latency.Round(time.Microsecond))
		if d.Warning != "" {
			s += " (warning: " + d.Warning + ")"
		}
		return s
	case alexatest.DeliveryQueued, alexatest.DeliverySending:
		return "the skill has not answered yet (" + string(d.State) + ")"
	}
	return fmt.Sprintf("%s: %s", d.State, d.Error)
}

// deliveryFailed is the error of a delivery the skill did not accept,
// after its result was printed.
func deliveryFailed(d *alexatest.SkillDelivery) error {
	if d == nil || d.State == alexatest.DeliveryDelivered {
		return nil
	}
	return &cliError{code: ExitFailure, kind: kindFailed, status: d.StatusCode, quiet: true,
		msg: fmt.Sprintf("%s for %s not accepted by the skill: %s", d.Type, d.UserID, deliveryLine(d))}
}

// EmulatorAdminOptions are what the emulator's admin subcommands share.
type EmulatorAdminOptions struct {
	IO *IOStreams
	// Getenv looks up the emulator's URL when --emulator is not given.
	Getenv func(string) string

	// Emulator is --emulator, checked; "" for the environment's or the
	// default, resolved by the run.
	Emulator string
	Timeout  time.Duration
}

// newEmulatorAdminOptions returns the admin options of f, flags not yet
// parsed.
func newEmulatorAdminOptions(f *Factory) EmulatorAdminOptions {
	return EmulatorAdminOptions{IO: f.IO, Getenv: f.Getenv}
}

// register defines --emulator.
func (o *EmulatorAdminOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Emulator, "emulator", "", "the emulator's URL (env "+EnvEmulatorURL+"; default http://"+DefaultEmulatorAddr+")")
}

// check checks --emulator, when given, and takes the --timeout of f.
func (o *EmulatorAdminOptions) check(f *Factory) error {
	if o.Emulator != "" {
		if _, err := checkEmulatorURL("--emulator", o.Emulator); err != nil {
			return err
		}
	}
	o.Timeout = f.timeout
	return nil
}

// call sends a request to the emulator's admin path, within --timeout.
func (o *EmulatorAdminOptions) call(ctx context.Context, method, path string, in, out any) error {
	base, err := emulatorURL(o.Getenv, o.Emulator)
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(ctx, o.Timeout)
	defer cancel()
	return callAdmin(ctx, base, method, path, in, out)
}

// EmulatorSubscribeOptions are the inputs of emulator subscribe and
// emulator unsubscribe.
type EmulatorSubscribeOptions struct {
	EmulatorAdminOptions
	// User and Event are --user and --event.
	User, Event string
	// Subscribe is true for subscribe, false for unsubscribe.
	Subscribe bool
}

// NewCmdEmulatorSubscribe returns emulator subscribe; runF, when not nil,
// runs instead of runEmulatorSubscribe.
func NewCmdEmulatorSubscribe(f *Factory, runF func(*EmulatorSubscribeOptions) error) *cobra.Command {
	return newCmdEmulatorSubscription(f, true, runF)
}

// NewCmdEmulatorUnsubscribe returns emulator unsubscribe; runF, when not
// nil, runs instead of runEmulatorSubscribe.
func NewCmdEmulatorUnsubscribe(f *Factory, runF func(*EmulatorSubscribeOptions) error) *cobra.Command {
	return newCmdEmulatorSubscription(f, false, runF)
}

func newCmdEmulatorSubscription(f *Factory, on bool, runF func(*EmulatorSubscribeOptions) error) *cobra.Command {
	opts := &EmulatorSubscribeOptions{EmulatorAdminOptions: newEmulatorAdminOptions(f), Subscribe: on}
	name, verb, to := "subscribe", "Subscribe", "to"
	if !on {
		name, verb, to = "unsubscribe", "Unsubscribe", "from"
	}
	cmd := &cobra.Command{
		Use:   name + " --user USERID --event NAME [--emulator URL]",
		Short: verb + " a user " + to + " a proactive event in a running emulator",
		Long: verb + ` a user ` + to + ` the proactive events of one name in a running
emulator, as a user does in the Alexa app. The emulator answers Unicast
events to a user who has not subscribed to the event's name with 403, as
Alexa does. When the user's subscriptions change and the emulator has a
--skill-endpoint, it sends the skill an
AlexaSkillEvent.ProactiveSubscriptionChanged request listing them all, and
this command prints the skill's answer (exit 1 when the skill did not
accept it).

The emulator is --emulator URL, or ` + EnvEmulatorURL + `, or ` + EnvEndpoint + `
when it names a loopback host, or http://` + DefaultEmulatorAddr + `.`,
		Example: "  alexa-oos emulator " + name + " --user amzn1.ask.account.X --event AMAZON.MessageAlert.Activated",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := alexatest.CheckSubscription(opts.User, opts.Event); err != nil {
				var ve *alexa.ValidationError
				if errors.As(err, &ve) {
					for i := range ve.Violations {
						ve.Violations[i].Field = flagOf(ve.Violations[i].Field)
					}
				}
				return about("emulator "+name, err)
			}
			if err := opts.check(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runEmulatorSubscribe(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.User, "user", "", "the userId, as the skill sees it (required)")
	fs.StringVar(&opts.Event, "event", "", "the event's schema name, such as AMAZON.WeatherAlert.Activated (required)")
	opts.register(cmd)
	return cmd
}

// runEmulatorSubscribe changes the subscription and prints the skill's
// answer.
func runEmulatorSubscribe(ctx context.Context, opts *EmulatorSubscribeOptions) error {
	if _, ok := proactive.LookupSchema(opts.Event); !ok && opts.Subscribe {
		// Alexa only offers its users the catalogue's events; a typo here
		// would make every event to this user refused as unsubscribed.
		opts.IO.warnf("%s is not an event name of the schema catalogue (alexa-oos proactive schemas lists them); subscribing all the same", opts.Event)
	}
	past, to := "subscribed", "to"
	if !opts.Subscribe {
		past, to = "unsubscribed", "from"
	}
	on := opts.Subscribe
	var res alexatest.SubscriptionResult
	if err := opts.call(ctx, http.MethodPost, alexatest.AdminSubscriptions, alexatest.SubscriptionChange{UserID: opts.User, EventName: opts.Event, Subscribed: &on}, &res); err != nil {
		return err
	}
	if opts.IO.JSON() {
		opts.IO.printJSON(res)
		return deliveryFailed(res.Delivery)
	}
	now := "none"
	if len(res.EventNames) > 0 {
		now = strings.Join(res.EventNames, ", ")
	}
	user, event, w := opts.User, opts.Event, opts.IO.Out
	switch {
	case !res.Changed:
		fmt.Fprintf(w, "%s was already %s %s %s (subscriptions: %s); nothing sent to the skill\n", user, past, to, event, now)
	case res.Delivery == nil:
		fmt.Fprintf(w, "%s %s %s %s (subscriptions: %s); the emulator has no --skill-endpoint, nothing sent\n", past, user, to, event, now)
	default:
		fmt.Fprintf(w, "%s %s %s %s (subscriptions: %s); %s\n", past, user, to, event, now, deliveryLine(res.Delivery))
	}
	return deliveryFailed(res.Delivery)
}

// flagOf names the flag of an admin request field.
func flagOf(field string) string {
	switch field {
	case "userId":
		return "--user"
	case "eventName":
		return "--event"
	}
	return field
}

// EmulatorSubscriptionsOptions are the inputs of emulator subscriptions.
type EmulatorSubscriptionsOptions struct {
	EmulatorAdminOptions
	// User is --user; "" lists every user's.
	User string
}

// NewCmdEmulatorSubscriptions returns emulator subscriptions; runF, when
// not nil, runs instead of runEmulatorSubscriptions.
func NewCmdEmulatorSubscriptions(f *Factory, runF func(*EmulatorSubscriptionsOptions) error) *cobra.Command {
	opts := &EmulatorSubscriptionsOptions{EmulatorAdminOptions: newEmulatorAdminOptions(f)}
	cmd := &cobra.Command{
		Use:   "subscriptions [--user USERID] [--emulator URL]",
		Short: "List the subscriptions of a running emulator",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.check(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runEmulatorSubscriptions(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.User, "user", "", "only this userId")
	opts.register(cmd)
	return cmd
}

// runEmulatorSubscriptions lists the subscriptions.
func runEmulatorSubscriptions(ctx context.Context, opts *EmulatorSubscriptionsOptions) error {
	path := alexatest.AdminSubscriptions
	if opts.User != "" {
		path += "?user=" + url.QueryEscape(opts.User)
	}
	var l alexatest.Listing[alexatest.Subscription]
	if err := opts.call(ctx, http.MethodGet, path, nil, &l); err != nil {
		return err
	}
	if opts.IO.JSON() {
		opts.IO.printJSON(l.Items)
		return nil
	}
	if len(l.Items) == 0 {
		fmt.Fprintln(opts.IO.Out, "no subscriptions")
	}
	for _, s := range l.Items {
		fmt.Fprintf(opts.IO.Out, "%s: %s\n", s.UserID, strings.Join(s.EventNames, ", "))
	}
	return nil
}

// EmulatorGrantOptions are the inputs of emulator grant.
type EmulatorGrantOptions struct {
	EmulatorAdminOptions
	// User is --user.
	User string
}

// NewCmdEmulatorGrant returns emulator grant; runF, when not nil, runs
// instead of runEmulatorGrant.
func NewCmdEmulatorGrant(f *Factory, runF func(*EmulatorGrantOptions) error) *cobra.Command {
	opts := &EmulatorGrantOptions{EmulatorAdminOptions: newEmulatorAdminOptions(f)}
	cmd := &cobra.Command{
		Use:   "grant --user USERID [--emulator URL]",
		Short: "Send the skill an Alexa.Authorization.Grant from a running emulator",
		Long: `Make a running emulator send its --skill-endpoint an
Alexa.Authorization.Grant request for the user, as Alexa does when a user
grants a permission the skill uses out of session, and print the skill's
answer (exit 1 when the skill did not accept it). The request carries an
authorization code that the emulator's token endpoint exchanges once, within
five minutes, for the user's access and refresh tokens
(grant_type=authorization_code with the skill's client id and secret); the
refresh token then works with grant_type=refresh_token.

The emulator is --emulator URL, or ` + EnvEmulatorURL + `, or ` + EnvEndpoint + `
when it names a loopback host, or http://` + DefaultEmulatorAddr + `.`,
		Example: "  alexa-oos emulator grant --user amzn1.ask.account.X",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var vs validate.Violations
			if opts.User == "" {
				vs.Add("--user", "is required: the userId the skill sees in its requests", nil)
			}
			vs.AddUserID("--user", opts.User)
			if err := vs.Err(""); err != nil {
				return about("emulator grant", err)
			}
			if err := opts.check(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runEmulatorGrant(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.User, "user", "", "the userId, as the skill sees it (required)")
	opts.register(cmd)
	return cmd
}

// runEmulatorGrant has the emulator send the grant and prints the skill's
// answer.
func runEmulatorGrant(ctx context.Context, opts *EmulatorGrantOptions) error {
	var res alexatest.GrantResult
	if err := opts.call(ctx, http.MethodPost, alexatest.AdminGrants, alexatest.GrantRequest{UserID: opts.User}, &res); err != nil {
		return err
	}
	if opts.IO.JSON() {
		opts.IO.printJSON(res)
	} else {
		fmt.Fprintf(opts.IO.Out, "sent %s for %s; %s\n", res.Delivery.Type, opts.User, deliveryLine(&res.Delivery))
	}
	return deliveryFailed(&res.Delivery)
}
