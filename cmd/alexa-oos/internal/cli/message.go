package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alexa-oos/alexa/internal/jsonin"
	"github.com/alexa-oos/alexa/internal/skillmsg"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/spf13/cobra"
)

func (a *app) messageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "message",
		Short: "Send skill messages (the Skill Messaging API)",
	}
	cmd.AddCommand(a.messageSendCommand())
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

func (a *app) messageSendCommand() *cobra.Command {
	var user, data, dataFile, expires string
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
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			m := &messaging.Message{}
			if cmd.Flags().Changed("expires-after") {
				n, err := parseExpiresAfter(expires)
				if err != nil {
					return usagef("--expires-after: %v", err)
				}
				if n == 0 {
					// Zero would mean the default to the library.
					return usagef("--expires-after: must be %d to %d seconds (got 0)", messaging.MinExpiresAfterSeconds, messaging.MaxExpiresAfterSeconds)
				}
				m.ExpiresAfterSeconds = n
			}
			t, err := a.resolve(false)
			if err != nil {
				return err
			}
			switch {
			case cmd.Flags().Changed("data"):
				b, err := jsonin.Clean([]byte(data))
				if err != nil {
					e := usagef("--data: %v", err)
					if errors.Is(err, jsonin.ErrEmpty) {
						e.hint = noDataHint
					}
					return e
				}
				m.Data = json.RawMessage(b)
			case dataFile != "":
				_, b, err := a.readJSON("--data-file: ", dataFile)
				if err != nil {
					var ce *cliError
					if errors.Is(err, jsonin.ErrEmpty) && errors.As(err, &ce) {
						ce.hint = noDataHint
					}
					return err
				}
				m.Data = json.RawMessage(b)
			}
			enc, err := skillmsg.Encode(user, m.Data, m.ExpiresAfterSeconds, nil)
			if err != nil {
				return about("message", err)
			}
			ctx, cancel := a.context(cmd)
			defer cancel()
			a.connect(t, "sending to the built-in emulator at %s")
			defer t.close()
			res, err := messaging.NewClient(t.cfg).Send(ctx, user, m)
			if err != nil {
				return err
			}
			out := messageResult{Result: "accepted", Status: res.StatusCode, Attempts: res.Attempts, User: user, ExpiresAfterSeconds: enc.ExpiresAfterSeconds}
			if t.srv != nil {
				if ms := t.srv.Messages(); len(ms) > 0 {
					rec := ms[len(ms)-1]
					out.Emulator = &emulatorMessage{URL: t.srv.URL, User: rec.UserID, Data: rec.Data, ExpiresAfterSeconds: rec.ExpiresAfterSeconds}
				}
			}
			if a.json() {
				a.printJSON(out)
				return nil
			}
			w := a.env.Stdout
			fmt.Fprintf(w, "accepted: HTTP %d, %s (acceptance is not delivery: Alexa retries for %ds)\n", out.Status, attempts(out.Attempts), out.ExpiresAfterSeconds)
			fmt.Fprintf(w, "  user: %s\n", out.User)
			if e := out.Emulator; e != nil {
				fmt.Fprintf(w, "emulator recorded: user %s, data %s, expiresAfterSeconds %d\n", e.User, e.Data, e.ExpiresAfterSeconds)
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&user, "user", "", "the customer's userId (required)")
	f.StringVar(&data, "data", "", "the data object, as JSON")
	f.StringVar(&dataFile, "data-file", "", "file holding the data object as JSON (- for stdin)")
	f.StringVar(&expires, "expires-after", "", "delivery window: seconds or a duration such as 2h (default 3600)")
	cmd.MarkFlagRequired("user")
	cmd.MarkFlagsMutuallyExclusive("data", "data-file")
	return cmd
}
