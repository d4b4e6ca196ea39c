package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/internal/jsonin"
	"github.com/alexa-oos/alexa/internal/skillmsg"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/spf13/cobra"
)

// NewCmdMessage returns the message command group.
func NewCmdMessage(f *Factory) *cobra.Command {
	return messageGroup(NewCmdMessageSend(f, nil))
}

// messageGroup returns the message group holding cmds.
func messageGroup(cmds ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "message",
		Short: "Send skill messages (the Skill Messaging API)",
	}
	cmd.AddCommand(cmds...)
	return group(cmd)
}

// parseExpiresAfter reads --expires-after: whole seconds ("7200") or a Go
// duration of whole seconds ("2h", "90m").
func parseExpiresAfter(s string) (int, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("must be seconds (7200) or a duration (2h) (got %q)", s)
	}
	if d%time.Second != 0 {
		return 0, fmt.Errorf("must be whole seconds (got %s)", d)
	}
	return int(d / time.Second), nil
}

// messageResult is the -o json form of message send.
type messageResult struct {
	Result              string           `json:"result"`
	Status              int              `json:"status"`
	Attempts            int              `json:"attempts"`
	User                string           `json:"user"`
	ExpiresAfterSeconds int              `json:"expiresAfterSeconds"`
	Emulator            *emulatorMessage `json:"emulator,omitempty"`
}

// emulatorMessage is what the embedded emulator recorded of a message.
type emulatorMessage struct {
	URL                 string          `json:"url"`
	User                string          `json:"user"`
	Data                json.RawMessage `json:"data"`
	ExpiresAfterSeconds int             `json:"expiresAfterSeconds"`
}

// noDataHint is the hint of an empty --data or --data-file.
const noDataHint = `a message without data is {}: give --data '{}' or leave out --data and --data-file`

// MessageSendOptions are the inputs of message send.
type MessageSendOptions struct {
	IO     *IOStreams
	Target func(needRefresh bool) (*target, error)

	// User is the customer's userId (--user).
	User string
	// Data is the data object of --data, cleaned; nil when not given.
	Data json.RawMessage
	// DataFile holds the data object (--data-file; "-" for IO.In).
	DataFile string
	// ExpiresAfterSeconds is --expires-after; 0 means the default.
	ExpiresAfterSeconds int
	Timeout             time.Duration
}

// NewCmdMessageSend returns message send; runF, when not nil, runs
// instead of runMessageSend.
func NewCmdMessageSend(f *Factory, runF func(*MessageSendOptions) error) *cobra.Command {
	opts := &MessageSendOptions{IO: f.IO, Target: f.Target}
	var data, expires string
	cmd := &cobra.Command{
		Use:   "send --user USER_ID [--data JSON | --data-file FILE] [--expires-after DURATION|SECONDS]",
		Short: "Send a skill message to one customer",
		Long: fmt.Sprintf(`Send a skill message to the skill for one customer (the userId the skill
sees in its requests). The skill receives the data object as
request.message of a Messaging.MessageReceived request.

--data is the data object as JSON; --data-file FILE (or - for stdin) holds
the data object alone, not a whole request body, such as
examples/messages/skill-message.json: {"reminder_id": "XXXX"}. Without either, {} is
sent; an empty --data or --data-file is refused. The data is at most %d
bytes as compact JSON, in UTF-8 (a leading byte order mark is dropped).

--expires-after is how long Alexa keeps trying to deliver the message:
%d to %d seconds, as seconds (7200) or a duration (2h); default %d.`,
			messaging.MaxDataBytes, messaging.MinExpiresAfterSeconds, messaging.MaxExpiresAfterSeconds, messaging.DefaultExpiresAfterSeconds),
		Example: `  alexa-oos message send --user amzn1.ask.account.XXXX --data-file examples/messages/skill-message.json
  alexa-oos message send --user amzn1.ask.account.XXXX --data '{"reminder_id":"42"}' --expires-after 2h`,
		Args: exactArgs(0, "no arguments (the user is --user)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("expires-after") {
				n, err := parseExpiresAfter(expires)
				if err != nil {
					return usagef("--expires-after: %v", err)
				}
				if n == 0 {
					// Zero would mean the default to the library.
					return usagef("--expires-after: must be %d to %d seconds (got 0)", messaging.MinExpiresAfterSeconds, messaging.MaxExpiresAfterSeconds)
				}
				opts.ExpiresAfterSeconds = n
			}
			if cmd.Flags().Changed("data") {
				b, err := jsonFlag("--data", data)
				if err != nil {
					var ce *cliError
					if errors.Is(err, jsonin.ErrEmpty) && errors.As(err, &ce) {
						ce.hint = noDataHint
					}
					return err
				}
				opts.Data = json.RawMessage(b)
			}
			opts.Timeout = f.timeout
			if runF != nil {
				return runF(opts)
			}
			return runMessageSend(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.User, "user", "", "the customer's userId (required)")
	fs.StringVar(&data, "data", "", "the data object, as JSON")
	fs.StringVar(&opts.DataFile, "data-file", "", "file holding the data object as JSON (- for stdin)")
	fs.StringVar(&expires, "expires-after", "", "delivery window: seconds or a duration such as 2h (default 3600)")
	cmd.MarkFlagRequired("user")
	cmd.MarkFlagsMutuallyExclusive("data", "data-file")
	return cmd
}

// runMessageSend resolves the message, sends it and prints the outcome.
func runMessageSend(ctx context.Context, opts *MessageSendOptions) error {
	p, err := prepareMessage(opts)
	if err != nil {
		return err
	}
	out, err := sendMessage(ctx, opts, p)
	if err != nil {
		return err
	}
	printMessageResult(opts.IO, out)
	return nil
}

// preparedMessage is a message ready to send: built and valid.
type preparedMessage struct {
	target *target
	msg    *messaging.Message
	// expiresAfter is the message's delivery window, the default filled.
	expiresAfter int
}

// prepareMessage resolves the target and builds the message, checked.
// Nothing is sent.
func prepareMessage(opts *MessageSendOptions) (*preparedMessage, error) {
	t, err := opts.Target(false)
	if err != nil {
		return nil, err
	}
	m := &messaging.Message{ExpiresAfterSeconds: opts.ExpiresAfterSeconds}
	switch {
	case opts.Data != nil:
		m.Data = opts.Data
	case opts.DataFile != "":
		_, b, err := opts.IO.readJSON("--data-file: ", opts.DataFile)
		if err != nil {
			var ce *cliError
			if errors.Is(err, jsonin.ErrEmpty) && errors.As(err, &ce) {
				ce.hint = noDataHint
			}
			return nil, err
		}
		m.Data = json.RawMessage(b)
	}
	enc, err := skillmsg.Encode(opts.User, m.Data, m.ExpiresAfterSeconds, nil)
	if err != nil {
		return nil, about("message", err)
	}
	return &preparedMessage{target: t, msg: m, expiresAfter: enc.ExpiresAfterSeconds}, nil
}

// sendMessage sends a prepared message and returns what to print.
func sendMessage(ctx context.Context, opts *MessageSendOptions, p *preparedMessage) (*messageResult, error) {
	ctx, cancel := withTimeout(ctx, opts.Timeout)
	defer cancel()
	t := p.target
	t.connect("sending to the built-in emulator at %s", alexatest.Options{})
	defer t.close()
	res, err := messaging.NewClient(t.cfg).Send(ctx, opts.User, p.msg)
	if err != nil {
		return nil, err
	}
	out := &messageResult{Result: "accepted", Status: res.StatusCode, Attempts: res.Attempts, User: opts.User, ExpiresAfterSeconds: p.expiresAfter}
	if t.srv != nil {
		if ms := t.srv.Messages(); len(ms) > 0 {
			rec := ms[len(ms)-1]
			out.Emulator = &emulatorMessage{URL: t.srv.URL, User: rec.UserID, Data: rec.Data, ExpiresAfterSeconds: rec.ExpiresAfterSeconds}
		}
	}
	return out, nil
}

// printMessageResult prints the outcome of message send.
func printMessageResult(s *IOStreams, out *messageResult) {
	if s.JSON() {
		s.printJSON(out)
		return
	}
	w := s.Out
	fmt.Fprintf(w, "accepted: HTTP %d, %s (acceptance is not delivery: Alexa retries for %ds)\n", out.Status, attempts(out.Attempts), out.ExpiresAfterSeconds)
	fmt.Fprintf(w, "  user: %s\n", out.User)
	if e := out.Emulator; e != nil {
		fmt.Fprintf(w, "emulator recorded: user %s, data %s, expiresAfterSeconds %d\n", e.User, e.Data, e.ExpiresAfterSeconds)
	}
}
