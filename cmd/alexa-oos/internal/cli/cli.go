// Package cli is the alexa-oos command line: cobra commands that turn flags
// and environment variables into calls of the alexa packages, print the
// results, and map errors to exit statuses. [Main] is the whole program;
// [Run] is the same with an explicit context and environment, so the
// commands can be tested in-process.
//
// Each command is an options struct, a NewCmdX(f, runF) constructor that
// parses and checks its flags, and a runX function that does the work;
// factory.go says how, for whoever adds one.
package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/spf13/cobra"
)

// Exit statuses of the command.
const (
	// ExitOK: the command did what was asked.
	ExitOK = 0
	// ExitFailure: the API or the network failed (or the command timed out).
	ExitFailure = 1
	// ExitUsage: bad flags or arguments, an unreadable or invalid file,
	// missing credentials. Nothing was sent.
	ExitUsage = 2
)

// Environment variables the command reads. Flags win over them.
const (
	// EnvClientID holds the skill's Alexa client id (flag --client-id).
	EnvClientID = "ALEXA_CLIENT_ID"
	// EnvClientSecret holds the client secret itself (flag
	// --client-secret-file names a file holding it instead).
	EnvClientSecret = "ALEXA_CLIENT_SECRET"
	// EnvRefreshToken holds a refresh token, for token --refresh (flag
	// --refresh-token-file).
	EnvRefreshToken = "ALEXA_REFRESH_TOKEN"
	// EnvEndpoint is the API endpoint URL (flags --endpoint, --region).
	EnvEndpoint = "ALEXA_API_ENDPOINT"
	// EnvTokenURL is the LWA token endpoint URL (flag --token-url).
	EnvTokenURL = "ALEXA_TOKEN_URL"
)

// DefaultTimeout bounds a whole command (the emulator excepted).
const DefaultTimeout = 30 * time.Second

// Env is what one run of the command sees of its process.
type Env struct {
	// Stdin is read by "-" file arguments.
	Stdin io.Reader
	// Stdout receives results; Stderr notices, warnings, errors and logs.
	Stdout, Stderr io.Writer
	// Getenv looks up an environment variable; nil means none is set.
	Getenv func(string) string
	// Now is the clock: it fills request times and judges expiry. Nil
	// means time.Now.
	Now func() time.Time
}

// Main runs the command with args (without the program name) in the
// process's environment, cancelled by SIGINT or SIGTERM, and returns the
// exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv})
}

// Run runs the command with args (without the program name) and returns
// the exit status. Cancelling ctx stops the command; the emulator command
// shuts down gracefully and returns ExitOK.
func Run(ctx context.Context, args []string, env Env) int {
	f := newFactory(env)
	root := NewCmdRoot(f)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	err := root.ExecuteContext(ctx)
	if err != nil && !f.IO.JSON() && strings.EqualFold(strings.TrimSpace(outputFlag(args)), "json") {
		// Flag parsing stopped before -o json (at an unknown flag, say):
		// the error is still wanted as JSON.
		f.IO.Output = "json"
	}
	return f.finish(err)
}

// outputFlag returns the last value given to -o/--output in args, as
// pflag would read it, or "".
func outputFlag(args []string) string {
	out := ""
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			return out
		case arg == "-o" || arg == "--output":
			if i+1 < len(args) {
				out = args[i+1]
				i++
			}
		case strings.HasPrefix(arg, "--output="):
			out = strings.TrimPrefix(arg, "--output=")
		case len(arg) > 1 && arg[0] == '-' && arg[1] != '-':
			// Shorthands, possibly combined: -o json, -ojson, -o=json, -vo json.
			if k := strings.IndexByte(arg, 'o'); k > 0 && strings.Trim(arg[1:k], "v") == "" {
				switch rest := strings.TrimPrefix(arg[k+1:], "="); {
				case rest != "":
					out = rest
				case i+1 < len(args):
					out = args[i+1]
					i++
				}
			}
		}
	}
	return out
}

const rootLong = `alexa-oos sends Alexa proactive events, skill messages and DataStore
commands (the out-of-session APIs), fetches Login-with-Amazon access
tokens, and serves a local emulator of them all.

Credentials are the skill's Alexa client id and secret, from the Permissions
page of the skill in the Alexa developer console:

  ALEXA_CLIENT_ID      or --client-id ID
  ALEXA_CLIENT_SECRET  or --client-secret-file FILE
  ALEXA_REFRESH_TOKEN  or --refresh-token-file FILE   (token --refresh only)

Secrets are never flag values (they would land in the shell history and the
process list); a secret file's trailing newline is ignored. Flags win over
the environment.

Where requests go:

  ALEXA_API_ENDPOINT   or --endpoint URL, or --region NA|EU|FE   (default NA)
  ALEXA_TOKEN_URL      or --token-url URL   (default ` + alexa.DefaultTokenURL + `)

With no credentials and no endpoint or token URL at all, "send", "bulk" and
"token" start the built-in emulator and run against it, and say so on stderr: nothing
leaves the machine. Set ALEXA_CLIENT_ID and ALEXA_CLIENT_SECRET to reach
Alexa.

HTTPS uses the system's root certificates; set SSL_CERT_FILE (or
SSL_CERT_DIR) to trust another CA, such as a corporate proxy's. HTTPS_PROXY
and NO_PROXY are honoured. Plain http is refused except to loopback hosts.

Exit status: 0 success; 1 the API or the network failed; 2 usage or
validation error (bad flags, unreadable or invalid file, missing
credentials), in which case nothing was sent.`

// NewCmdRoot returns the alexa-oos command with every subcommand.
func NewCmdRoot(f *Factory) *cobra.Command {
	return newRoot(f,
		NewCmdProactive(f), NewCmdMessage(f), NewCmdToken(f, nil), newCmdEmulatorAll(f), NewCmdBulk(f),
		NewCmdDatastore(f), NewCmdQueue(f))
}

// newRoot returns the root command with its global flags and cmds.
func newRoot(f *Factory, cmds ...*cobra.Command) *cobra.Command {
	root := &cobra.Command{
		Use:               "alexa-oos",
		Short:             "Send Alexa proactive events and skill messages",
		Long:              rootLong,
		Version:           alexa.Version,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: true},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return f.setup() },
	}
	g := &f.globalFlags
	fs := root.PersistentFlags()
	fs.StringVar(&g.clientID, "client-id", "", "skill's Alexa client id (env "+EnvClientID+")")
	fs.StringVar(&g.clientSecretFile, "client-secret-file", "", "file holding the client secret (env "+EnvClientSecret+" holds the secret itself)")
	fs.StringVar(&g.refreshTokenFile, "refresh-token-file", "", "file holding a refresh token (env "+EnvRefreshToken+")")
	fs.StringVar(&g.clientSecretFlag, "client-secret", "", "refused: use --client-secret-file or "+EnvClientSecret)
	fs.MarkHidden("client-secret")
	fs.StringVar(&g.region, "region", "", "API region: NA, EU or FE (default NA)")
	fs.StringVar(&g.endpoint, "endpoint", "", "API endpoint URL (env "+EnvEndpoint+")")
	fs.StringVar(&g.tokenURL, "token-url", "", "LWA token endpoint URL (env "+EnvTokenURL+")")
	fs.DurationVar(&g.timeout, "timeout", DefaultTimeout, "deadline of the whole command, retries included (0: no deadline)")
	fs.BoolVarP(&g.verbose, "verbose", "v", false, "log requests to stderr (never secrets or tokens)")
	fs.BoolVar(&g.http2, "http2", false, "speak HTTP/2 to Alexa and LWA instead of HTTP/1.1 (slower in bulk; see docs/performance.md)")
	stringEnumFlag(root, fs, &f.IO.Output, "output", "o", "text", []string{"text", "json"}, nil, "output format")
	g.flags = fs
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(cmds...)
	classifyRunE(root, f)
	return root
}

// classifyRunE makes every command under cmd classify the errors its RunE
// returns, so that finish can tell cobra's own (usage) errors from the
// commands'.
func classifyRunE(cmd *cobra.Command, f *Factory) {
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if err := run(cmd, args); err != nil {
				return classify(err, f.timeout)
			}
			return nil
		}
	}
	for _, c := range cmd.Commands() {
		classifyRunE(c, f)
	}
}

// setup checks the global flags and builds the logger.
func (f *Factory) setup() error {
	if f.flags.Changed("client-secret") {
		return usagef("--client-secret is not accepted: secrets are never flag values (they land in shell history and the process list); use --client-secret-file FILE or %s", EnvClientSecret)
	}
	if f.timeout < 0 {
		return usagef("--timeout: must not be negative (got %s)", f.timeout)
	}
	if f.verbose {
		f.logger = slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	} else {
		f.logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// finish reports err and returns the exit status.
func (f *Factory) finish(err error) int {
	if err == nil {
		return ExitOK
	}
	var ce *cliError
	if !errors.As(err, &ce) {
		// cobra's own: unknown command or flag, wrong argument count.
		ce = &cliError{code: ExitUsage, kind: kindUsage, msg: err.Error(), hint: `run "alexa-oos help" for usage`}
	}
	f.IO.report(ce)
	return ce.code
}

// exactArgs is cobra.ExactArgs with a usage error naming the arguments.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s: expects %s (got %d arguments)", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

// minArgs is cobra.MinimumNArgs with a usage error naming the arguments.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("%s: expects %s", cmd.CommandPath(), what)
		}
		return nil
	}
}

// group makes cmd a command group: run alone it prints its help; with an
// argument that names no subcommand it is a usage error (cobra would print
// the help and succeed).
func group(cmd *cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return cmd
}
