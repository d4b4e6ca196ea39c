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
)

// EnvEmulatorURL is the URL of a running emulator, for the emulator's
// admin subcommands (flag --emulator) and for skills under test (the
// example skill reads it). "alexa-oos emulator" prints the line that sets
// it.
const EnvEmulatorURL = "ALEXA_EMULATOR_URL"

// skillFlags are the emulator's flags about the skill it calls.
type skillFlags struct {
	endpoint          string
	caFile            string
	insecure          bool
	applicationID     string
	allowUnsubscribed bool
}

func (s *skillFlags) register(f *pflag.FlagSet) {
	f.StringVar(&s.endpoint, "skill-endpoint", "", "your skill's URL: skill messages, subscription changes and grants are sent there, signed (https, or http on loopback)")
	f.StringVar(&s.caFile, "skill-ca-file", "", "PEM file of the CA that issued the skill endpoint's certificate (default: the system roots)")
	f.BoolVar(&s.insecure, "skill-insecure", false, "accept any certificate from an https skill endpoint on a loopback host, such as a self-signed one")
	f.StringVar(&s.applicationID, "skill-id", alexatest.DefaultApplicationID, "the skill id the requests to the skill carry")
	f.BoolVar(&s.allowUnsubscribed, "allow-unsubscribed", false, "accept Unicast events to users who have not subscribed to the event (Alexa answers 403)")
}

// options checks the flags and returns the emulator's skill options.
func (s *skillFlags) options() (alexatest.SkillOptions, error) {
	o := alexatest.SkillOptions{ApplicationID: s.applicationID, InsecureSkipVerify: s.insecure}
	if s.endpoint == "" {
		switch {
		case s.caFile != "":
			return o, usagef("--skill-ca-file: needs --skill-endpoint")
		case s.insecure:
			return o, usagef("--skill-insecure: needs --skill-endpoint")
		}
		return o, nil
	}
	if err := alexatest.CheckSkillEndpoint(s.endpoint, s.insecure); err != nil {
		var ve *alexa.ValidationError
		if errors.As(err, &ve) && len(ve.Violations) > 0 {
			return o, usagef("--skill-endpoint: %s (got %q)", ve.Violations[0].Rule, ve.Violations[0].Value)
		}
		return o, usagef("--skill-endpoint: %v", err)
	}
	if s.caFile != "" {
		if s.insecure {
			return o, usagef("--skill-ca-file and --skill-insecure: give one; with --skill-insecure no certificate is checked")
		}
		pem, err := os.ReadFile(s.caFile)
		if err != nil {
			return o, usagef("--skill-ca-file: %v", err)
		}
		o.TLSRoots = x509.NewCertPool()
		if !o.TLSRoots.AppendCertsFromPEM(pem) {
			return o, usagef("--skill-ca-file: %s holds no PEM certificate", s.caFile)
		}
	}
	if s.applicationID == "" {
		return o, usagef("--skill-id: must not be empty (default %s)", alexatest.DefaultApplicationID)
	}
	return o, nil
}

// adminTarget is the emulator an admin subcommand talks to.
type adminTarget struct {
	url string
}

// emulatorURL returns --emulator, or ALEXA_EMULATOR_URL, or
// ALEXA_API_ENDPOINT when it names a loopback host (as the emulator's
// banner sets it), or the emulator's default address.
func (a *app) emulatorURL(flag string) (string, error) {
	src, u := "--emulator", flag
	if u == "" {
		src, u = EnvEmulatorURL, a.env.Getenv(EnvEmulatorURL)
	}
	if u == "" {
		if ep := a.env.Getenv(EnvEndpoint); ep != "" {
			if p, err := url.Parse(ep); err == nil && httpx.IsLoopback(p.Hostname()) {
				src, u = EnvEndpoint, ep
			}
		}
	}
	if u == "" {
		return "http://" + DefaultEmulatorAddr, nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return "", usagef("%s: must be the emulator's URL, such as http://%s (got %q)", src, DefaultEmulatorAddr, u)
	}
	return strings.TrimRight(u, "/"), nil
}

// admin sends a JSON request to the emulator's admin path and decodes its
// JSON answer into out. An error answer is a usage error for 400 and 409
// (nothing changed), a failure otherwise.
func (a *app) admin(ctx context.Context, base, method, path string, in, out any) error {
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

func (a *app) subscribeCommand(on bool) *cobra.Command {
	var user, event, emulator string
	name, verb, past, to := "subscribe", "Subscribe", "subscribed", "to"
	if !on {
		name, verb, past, to = "unsubscribe", "Unsubscribe", "unsubscribed", "from"
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
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			if err := alexatest.CheckSubscription(user, event); err != nil {
				var ve *alexa.ValidationError
				if errors.As(err, &ve) {
					for i := range ve.Violations {
						ve.Violations[i].Field = flagOf(ve.Violations[i].Field)
					}
				}
				return about("emulator "+name, err)
			}
			base, err := a.emulatorURL(emulator)
			if err != nil {
				return err
			}
			ctx, cancel := a.context(cmd)
			defer cancel()
			var res alexatest.SubscriptionResult
			if err := a.admin(ctx, base, http.MethodPost, alexatest.AdminSubscriptions, alexatest.SubscriptionChange{UserID: user, EventName: event, Subscribed: &on}, &res); err != nil {
				return err
			}
			if a.json() {
				a.printJSON(res)
				return deliveryFailed(res.Delivery)
			}
			now := "none"
			if len(res.EventNames) > 0 {
				now = strings.Join(res.EventNames, ", ")
			}
			switch {
			case !res.Changed:
				fmt.Fprintf(a.env.Stdout, "%s was already %s %s %s (subscriptions: %s); nothing sent to the skill\n", user, past, to, event, now)
			case res.Delivery == nil:
				fmt.Fprintf(a.env.Stdout, "%s %s %s %s (subscriptions: %s); the emulator has no --skill-endpoint, nothing sent\n", past, user, to, event, now)
			default:
				fmt.Fprintf(a.env.Stdout, "%s %s %s %s (subscriptions: %s); %s\n", past, user, to, event, now, deliveryLine(res.Delivery))
			}
			return deliveryFailed(res.Delivery)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&user, "user", "", "the userId, as the skill sees it (required)")
	f.StringVar(&event, "event", "", "the event's schema name, such as AMAZON.WeatherAlert.Activated (required)")
	f.StringVar(&emulator, "emulator", "", "the emulator's URL (env "+EnvEmulatorURL+"; default http://"+DefaultEmulatorAddr+")")
	return cmd
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

func (a *app) subscriptionsCommand() *cobra.Command {
	var user, emulator string
	cmd := &cobra.Command{
		Use:   "subscriptions [--user USERID] [--emulator URL]",
		Short: "List the subscriptions of a running emulator",
		Args:  exactArgs(0, "no arguments"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			base, err := a.emulatorURL(emulator)
			if err != nil {
				return err
			}
			ctx, cancel := a.context(cmd)
			defer cancel()
			path := alexatest.AdminSubscriptions
			if user != "" {
				path += "?user=" + url.QueryEscape(user)
			}
			var l alexatest.Listing[alexatest.Subscription]
			if err := a.admin(ctx, base, http.MethodGet, path, nil, &l); err != nil {
				return err
			}
			if a.json() {
				a.printJSON(l.Items)
				return nil
			}
			if len(l.Items) == 0 {
				fmt.Fprintln(a.env.Stdout, "no subscriptions")
			}
			for _, s := range l.Items {
				fmt.Fprintf(a.env.Stdout, "%s: %s\n", s.UserID, strings.Join(s.EventNames, ", "))
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&user, "user", "", "only this userId")
	cmd.Flags().StringVar(&emulator, "emulator", "", "the emulator's URL (env "+EnvEmulatorURL+"; default http://"+DefaultEmulatorAddr+")")
	return cmd
}

func (a *app) grantCommand() *cobra.Command {
	var user, emulator string
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
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			var vs validate.Violations
			if user == "" {
				vs.Add("--user", "is required: the userId the skill sees in its requests", nil)
			}
			vs.AddUserID("--user", user)
			if err := vs.Err(""); err != nil {
				return about("emulator grant", err)
			}
			base, err := a.emulatorURL(emulator)
			if err != nil {
				return err
			}
			ctx, cancel := a.context(cmd)
			defer cancel()
			var res alexatest.GrantResult
			if err := a.admin(ctx, base, http.MethodPost, alexatest.AdminGrants, alexatest.GrantRequest{UserID: user}, &res); err != nil {
				return err
			}
			if a.json() {
				a.printJSON(res)
			} else {
				fmt.Fprintf(a.env.Stdout, "sent %s for %s; %s\n", res.Delivery.Type, user, deliveryLine(&res.Delivery))
			}
			return deliveryFailed(&res.Delivery)
		}),
	}
	cmd.Flags().StringVar(&user, "user", "", "the userId, as the skill sees it (required)")
	cmd.Flags().StringVar(&emulator, "emulator", "", "the emulator's URL (env "+EnvEmulatorURL+"; default http://"+DefaultEmulatorAddr+")")
	return cmd
}
