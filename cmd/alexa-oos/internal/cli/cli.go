// Package cli is the alexa-oos command line: cobra commands that turn flags
// and environment variables into calls of the alexa packages, print the
// results, and map errors to exit statuses. [Main] is the whole program;
// [Run] is the same with an explicit context and environment, so the
// commands can be tested in-process.
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
	"github.com/spf13/pflag"
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
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	a := &app{env: env, output: "text", timeout: DefaultTimeout}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && !a.json() && outputFlag(args) == "json" {
		// Flag parsing stopped before -o json (at an unknown flag, say):
		// the error is still wanted as JSON.
		a.output = "json"
	}
	return a.finish(err)
}

// app holds the global flags and the environment of one run.
type app struct {
	env Env

	clientID         string
	clientSecretFile string
	refreshTokenFile string
	clientSecretFlag string // refused: secrets are never flag values
	region           string
	endpoint         string
	tokenURL         string
	timeout          time.Duration
	verbose          bool
	output           string
	anyLocale        bool // proactive --any-locale

	flags  *pflag.FlagSet // the root's persistent flags, to tell set from default
	logger *slog.Logger
}

func (a *app) json() bool { return a.output == "json" }

func (a *app) now() time.Time { return a.env.Now() }

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

const rootLong = `alexa-oos sends Alexa proactive events and skill messages (the
out-of-session APIs), fetches Login-with-Amazon access tokens, and serves a
local emulator of all three.

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

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:               "alexa-oos",
		Short:             "Send Alexa proactive events and skill messages",
		Long:              rootLong,
		Version:           alexa.Version,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: true},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return a.setup() },
	}
	f := root.PersistentFlags()
	f.StringVar(&a.clientID, "client-id", "", "skill's Alexa client id (env "+EnvClientID+")")
	f.StringVar(&a.clientSecretFile, "client-secret-file", "", "file holding the client secret (env "+EnvClientSecret+" holds the secret itself)")
	f.StringVar(&a.refreshTokenFile, "refresh-token-file", "", "file holding a refresh token (env "+EnvRefreshToken+")")
	f.StringVar(&a.clientSecretFlag, "client-secret", "", "refused: use --client-secret-file or "+EnvClientSecret)
	f.MarkHidden("client-secret")
	f.StringVar(&a.region, "region", "", "API region: NA, EU or FE (default NA)")
	f.StringVar(&a.endpoint, "endpoint", "", "API endpoint URL (env "+EnvEndpoint+")")
	f.StringVar(&a.tokenURL, "token-url", "", "LWA token endpoint URL (env "+EnvTokenURL+")")
	f.DurationVar(&a.timeout, "timeout", DefaultTimeout, "deadline of the whole command, retries included (0: no deadline)")
	f.BoolVarP(&a.verbose, "verbose", "v", false, "log requests to stderr (never secrets or tokens)")
	f.StringVarP(&a.output, "output", "o", "text", "output format: text or json")
	a.flags = f
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%v", err)
	})
	root.AddCommand(a.proactiveCommand(), a.messageCommand(), a.tokenCommand(), a.emulatorCommand(), a.bulkCommand())
	root.AddCommand(a.datastoreCommand())
	root.AddCommand(a.queueCommand())
	return root
}

// setup checks the global flags and builds the logger.
func (a *app) setup() error {
	if a.flags.Changed("client-secret") {
		return usagef("--client-secret is not accepted: secrets are never flag values (they land in shell history and the process list); use --client-secret-file FILE or %s", EnvClientSecret)
	}
	switch a.output {
	case "text", "json":
	default:
		return usagef("-o/--output: must be text or json (got %q)", a.output)
	}
	if a.timeout < 0 {
		return usagef("--timeout: must not be negative (got %s)", a.timeout)
	}
	if a.verbose {
		a.logger = slog.New(slog.NewTextHandler(a.env.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	} else {
		a.logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// context returns the context of a command run: cmd's, bounded by --timeout.
func (a *app) context(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if a.timeout > 0 {
		return context.WithTimeout(ctx, a.timeout)
	}
	return context.WithCancel(ctx)
}

// run adapts a command body: every error it returns is classified, so
// that finish can tell cobra's own (usage) errors from the command's.
func (a *app) run(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := f(cmd, args); err != nil {
			return a.classify(err)
		}
		return nil
	}
}

// finish reports err and returns the exit status.
func (a *app) finish(err error) int {
	if err == nil {
		return ExitOK
	}
	var ce *cliError
	if !errors.As(err, &ce) {
		// cobra's own: unknown command or flag, wrong argument count.
		ce = &cliError{code: ExitUsage, kind: kindUsage, msg: err.Error(), hint: `run "alexa-oos help" for usage`}
	}
	a.report(ce)
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
