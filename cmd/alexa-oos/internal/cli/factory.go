package cli

// How a command is built
//
// Every command follows the shape of the GitHub CLI's commands (cli/cli,
// pkg/cmd/issue/close):
//
//   - an options struct, XOptions, holding what the command works with:
//     its streams (IO), the clock (Now), where requests go (Target, which
//     resolves the configuration, secret files included, only when the run
//     calls it; the target's connect starts the built-in emulator when
//     nothing is configured), and the values of its flags and arguments;
//   - NewCmdX(f *Factory, runF func(*XOptions) error) *cobra.Command,
//     whose RunE copies the arguments and the global flags it needs
//     (--timeout, --any-locale, the queue's --database-url, -v) into the
//     options and checks them, with no I/O and no environment lookup (what
//     comes from files or the environment, such as credentials or
//     DATABASE_URL, is read by the run), and then calls runF when given
//     (tests capture the options that way, see flags_test.go) or runX;
//   - runX(ctx, opts) error, which does the work in three steps:
//     resolution (target, inputs, validation: nothing sent), the call,
//     then the output (text, or JSON with -o json). It takes ctx first, as
//     every call here does, instead of keeping one in the options.
//
// A group is built by xGroup(cmds...) (proactiveGroup(f, cmds...) and
// queueGroup(f, cmds...), for the flags their commands share, which land
// in the Factory's globalFlags), and NewCmdX(f) adds its commands to it:
// a test puts one command, built with its runF, in its real group. The
// emulator is both a command and a group: NewCmdEmulator(f, runF) is the
// command alone, emulatorGroup(f, cmds...) holds its admin subcommands.
// Errors returned from RunE are classified once, by the root
// (classifyRunE): a command returns usagef(...) for a usage error, the
// library's errors as they are. Enum flags are defined with
// stringEnumFlag.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// IOStreams are the standard streams of one run, and the format of its
// results.
type IOStreams struct {
	// In is read by "-" file arguments.
	In io.Reader
	// Out receives results; ErrOut notices, warnings, errors and logs.
	Out, ErrOut io.Writer
	// Output is the format of results, "text" or "json" (flag -o).
	Output string
}

// JSON reports whether results are wanted as JSON (-o json).
func (s *IOStreams) JSON() bool { return s.Output == "json" }

// IsStderrTerminal reports whether ErrOut is a terminal, where a bulk job
// draws a progress bar instead of printing progress lines.
func (s *IOStreams) IsStderrTerminal() bool { return isTerminal(s.ErrOut) }

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Factory is what every command is built from: the streams, environment
// and clock of one run, the global flags, and where requests go, resolved
// only when a command asks (Target).
type Factory struct {
	IO *IOStreams
	// Getenv looks up an environment variable ("" when unset).
	Getenv func(string) string
	// Now is the clock: it fills request times and judges expiry.
	Now func() time.Time

	// globalFlags are the root command's persistent flags (and the
	// proactive group's --any-locale), set before any RunE runs.
	globalFlags
}

// globalFlags are the flags every command shares.
type globalFlags struct {
	clientID         string
	clientSecretFile string
	refreshTokenFile string
	clientSecretFlag string // refused: secrets are never flag values
	region           string
	endpoint         string
	tokenURL         string
	timeout          time.Duration
	verbose          bool
	http2            bool    // --http2
	anyLocale        bool    // proactive --any-locale
	queueDB          QueueDB // queue --database-url, --schema, --queue

	flags  *pflag.FlagSet // the root's persistent flags, to tell set from default
	logger *slog.Logger
}

// newFactory returns the Factory of a run in env, its zero fields given
// their defaults.
func newFactory(env Env) *Factory {
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
	return &Factory{
		IO:          &IOStreams{In: env.Stdin, Out: env.Stdout, ErrOut: env.Stderr, Output: "text"},
		Getenv:      env.Getenv,
		Now:         env.Now,
		globalFlags: globalFlags{timeout: DefaultTimeout, logger: slog.New(slog.DiscardHandler)},
	}
}

// Target resolves where a command sends, from the global flags and the
// environment: see resolve. It reads secret files, never the network.
func (f *Factory) Target(needRefresh bool) (*target, error) { return f.resolve(needRefresh) }

// timeoutGiven reports whether --timeout was given on the command line.
func (f *Factory) timeoutGiven() bool { return f.flags != nil && f.flags.Changed("timeout") }

// withTimeout bounds ctx by timeout, the --timeout of a command; 0 means
// no deadline.
func withTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(ctx, timeout)
	}
	return context.WithCancel(ctx)
}

// stringEnumFlag defines a string flag of cmd, in fs (its Flags or
// PersistentFlags), restricted to options, as the GitHub CLI's
// cmdutil.StringEnumFlag does: the help lists the options, shell
// completion offers them, and any other value is a usage error naming the
// flag, the value and the options, before the command runs. A value
// matches an option in any case and is stored as the option's spelling;
// parse, when not nil, reads the value instead (to accept other
// spellings, such as "dev").
func stringEnumFlag(cmd *cobra.Command, fs *pflag.FlagSet, p *string, name, shorthand, defaultValue string, options []string, parse func(string) (string, bool), usage string) *pflag.Flag {
	*p = defaultValue
	v := &enumValue{p: p, flag: "--" + name, options: options, parse: parse}
	if shorthand != "" {
		v.flag = "-" + shorthand + "/--" + name
	}
	f := fs.VarPF(v, name, shorthand, fmt.Sprintf("%s: {%s}", usage, strings.Join(options, "|")))
	cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return options, cobra.ShellCompDirectiveNoFileComp
	})
	return f
}

// enumValue is the pflag.Value of a stringEnumFlag.
type enumValue struct {
	p       *string
	flag    string // as errors name it: --stage, -o/--output
	options []string
	parse   func(string) (string, bool)
}

func (e *enumValue) Set(s string) error {
	if e.parse != nil {
		if v, ok := e.parse(s); ok {
			*e.p = v
			return nil
		}
	} else if i := slices.IndexFunc(e.options, func(o string) bool { return strings.EqualFold(o, strings.TrimSpace(s)) }); i >= 0 {
		*e.p = e.options[i]
		return nil
	}
	return &enumError{flag: e.flag, value: s, options: e.options}
}

func (e *enumValue) String() string { return *e.p }
func (e *enumValue) Type() string   { return "string" }

// enumError is a value outside an enum flag's options.
type enumError struct {
	flag, value string
	options     []string
}

func (e *enumError) Error() string {
	return fmt.Sprintf("%s: must be %s (got %q)", e.flag, orList(e.options), e.value)
}

// orList spells options as "a or b", "a, b or c".
func orList(options []string) string {
	if len(options) < 2 {
		return strings.Join(options, "")
	}
	return strings.Join(options[:len(options)-1], ", ") + " or " + options[len(options)-1]
}

// flagError is the root's flag error function: every flag error is a
// usage error; an enum flag's says what it accepts, in its own words.
func flagError(cmd *cobra.Command, err error) error {
	var ee *enumError
	if errors.As(err, &ee) {
		return usagef("%v", ee)
	}
	return usagef("%v", err)
}
