package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/text"
	"github.com/alexa-oos/alexa/lwa"
)

// Kinds of failure, as the "kind" of a JSON error.
const (
	kindUsage             = "usage"
	kindValidation        = "validation"
	kindAPI               = "api"
	kindThrottled         = "throttled"
	kindDuplicate         = "duplicate"
	kindUnauthorized      = "unauthorized"
	kindNotFound          = "not_found"
	kindNotificationLimit = "notification_limit"
	kindToken             = "token"
	kindNetwork           = "network"
	kindTimeout           = "timeout"
	kindInterrupted       = "interrupted"
	kindFailed            = "failed"
)

// cliError is a classified failure: its exit status and what to print.
type cliError struct {
	code int
	kind string
	msg  string
	hint string
	// status is the HTTP status, when there was a response.
	status int
	// retryAfter is the server's Retry-After.
	retryAfter time.Duration
	// violations are printed one per line, each prefixed with subject.
	violations []alexa.Violation
	subject    string
	// quiet means the command already printed its result; only the
	// one-line summary msg goes to stderr.
	quiet bool
	err   error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.err }

// usagef returns a usage error (exit 2).
func usagef(format string, args ...any) *cliError {
	return &cliError{code: ExitUsage, kind: kindUsage, msg: fmt.Sprintf(format, args...)}
}

// invalidFile returns the error of a file that is not a request (exit 2).
func invalidFile(name string, format string, args ...any) *cliError {
	return &cliError{code: ExitUsage, kind: kindValidation, msg: name + ": " + fmt.Sprintf(format, args...)}
}

// about marks err as concerning subject (a file name, "message"), which
// prefixes its violation lines.
func about(subject string, err error) error {
	if err == nil {
		return nil
	}
	var ve *alexa.ValidationError
	if errors.As(err, &ve) {
		e := &cliError{code: ExitUsage, kind: kindValidation, subject: subject, violations: ve.Violations,
			msg: fmt.Sprintf("%s: %s, nothing sent", subject, problems(len(ve.Violations))), err: err}
		e.hint = localeHint(ve.Violations)
		return e
	}
	return err
}

// localeHint points at --any-locale when a locale outside Alexa's known
// list was refused; "" otherwise.
func localeHint(vs []alexa.Violation) string {
	for _, v := range vs {
		if strings.HasSuffix(v.Field, ".locale") && strings.HasPrefix(v.Rule, "must be a locale Alexa supports") {
			return "a locale Alexa added after this release? --any-locale accepts any language-REGION locale"
		}
	}
	return ""
}

func problems(n int) string {
	if n == 1 {
		return "1 problem"
	}
	return fmt.Sprintf("%d problems", n)
}

// classify turns any error of a command into a *cliError; timeout is the
// command's --timeout, which a deadline's hint names.
func classify(err error, timeout time.Duration) *cliError {
	var (
		ce *cliError
		ve *alexa.ValidationError
		ae *alexa.Error
		le *lwa.Error
		ie *alexa.InsecureURLError
		te *alexa.TransportError
	)
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.As(err, &ve):
		e := about("request", err).(*cliError)
		if ve.Op != "" {
			e.msg = ve.Op + ": invalid request, nothing sent"
		}
		return e
	case errors.As(err, &ae):
		return apiError(err, ae)
	case errors.As(err, &le):
		return tokenError(err, le)
	case errors.As(err, &ie):
		return &cliError{code: ExitUsage, kind: kindUsage, msg: ie.Error(), err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &cliError{code: ExitFailure, kind: kindTimeout, msg: err.Error(),
			hint: fmt.Sprintf("the whole command, retries included, is bounded by --timeout (%s); give a longer one, or --timeout 0 for no deadline", timeout), err: err}
	case errors.Is(err, context.Canceled):
		return &cliError{code: ExitFailure, kind: kindInterrupted, msg: "interrupted: " + err.Error(), err: err}
	case errors.As(err, &te):
		return &cliError{code: ExitFailure, kind: kindNetwork, msg: err.Error(), hint: networkHint(err), err: err}
	}
	return &cliError{code: ExitFailure, kind: kindFailed, msg: err.Error(), err: err}
}

// apiError describes an Alexa API error response: the error's own line,
// and the hint of the first error in err's chain that has one (an API
// package's, such as DataStore's, before the general one).
func apiError(err error, e *alexa.Error) *cliError {
	c := &cliError{code: ExitFailure, kind: kindAPI, status: e.StatusCode, retryAfter: e.RetryAfter, hint: hintOf(err), err: e}
	prefix := ""
	switch {
	case errors.Is(e, alexa.ErrDuplicate):
		c.kind = kindDuplicate
		prefix = "duplicate referenceId: "
	case errors.Is(e, alexa.ErrThrottled):
		c.kind = kindThrottled
		prefix = "throttled: "
		if e.RetryAfter > 0 {
			c.hint = fmt.Sprintf("Alexa asked to wait %s (Retry-After) before sending again", e.RetryAfter)
		} else {
			c.hint = "Alexa is throttling this skill; send less often"
		}
	case errors.Is(e, alexa.ErrUnauthorized):
		c.kind = kindUnauthorized
	case errors.Is(e, alexa.ErrNotFound):
		c.kind = kindNotFound
	case errors.Is(e, alexa.ErrNotificationLimit):
		c.kind = kindNotificationLimit
	}
	c.msg = prefix + e.Error()
	if e.Attempts > 1 {
		c.msg += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return c
}

// tokenError describes a refused token request.
func tokenError(err error, e *lwa.Error) *cliError {
	c := &cliError{code: ExitFailure, kind: kindToken, status: e.StatusCode, retryAfter: e.RetryAfter, hint: hintOf(err), msg: e.Error(), err: e}
	switch {
	case errors.Is(e, alexa.ErrUnauthorized):
		c.kind = kindUnauthorized
	case errors.Is(e, alexa.ErrThrottled):
		c.kind = kindThrottled
	}
	return c
}

// hintOf returns the hint of the first error in err's chain that gives
// one with a Hint method, or "".
func hintOf(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}

func networkHint(err error) string {
	var (
		ua  x509.UnknownAuthorityError
		cve *tls.CertificateVerificationError
		te  *alexa.TransportError
		dns *net.DNSError
		op  *net.OpError
	)
	switch {
	case errors.As(err, &ua) || errors.As(err, &cve):
		return "the server's certificate is not trusted by the system roots; set SSL_CERT_FILE to a PEM bundle that holds its CA"
	case errors.As(err, &te) && strings.HasPrefix(te.Op, "lwa.") && (errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial"):
		return fmt.Sprintf("the token endpoint %s cannot be reached; if tokens come from elsewhere (an emulator, a proxy), set --token-url or %s", te.URL, EnvTokenURL)
	}
	return "check the endpoint and token URL and the network; HTTPS_PROXY and NO_PROXY are honoured"
}

// jsonError is the -o json form of a failure.
type jsonError struct {
	Error             string            `json:"error"`
	Kind              string            `json:"kind"`
	Status            int               `json:"status,omitempty"`
	RetryAfterSeconds int64             `json:"retryAfterSeconds,omitempty"`
	Hint              string            `json:"hint,omitempty"`
	Violations        []alexa.Violation `json:"violations,omitempty"`
}

// report prints a failure on stderr: one line (one per violation), then
// the hint, if any, on a line of its own; and with -o json the JSON error
// object on stdout.
func (s *IOStreams) report(e *cliError) {
	if e.quiet {
		fmt.Fprintf(s.ErrOut, "alexa-oos: %s\n", e.msg)
		return
	}
	if s.JSON() {
		s.printJSON(jsonError{Error: e.msg, Kind: e.kind, Status: e.status,
			RetryAfterSeconds: text.CeilSeconds(e.retryAfter), Hint: e.hint, Violations: e.violations})
	}
	if len(e.violations) > 0 {
		for _, v := range e.violations {
			fmt.Fprintf(s.ErrOut, "alexa-oos: %s: %s\n", e.subject, v)
		}
	} else {
		fmt.Fprintf(s.ErrOut, "alexa-oos: %s\n", e.msg)
	}
	if e.hint != "" {
		fmt.Fprintf(s.ErrOut, "alexa-oos: hint: %s\n", e.hint)
	}
}

// printJSON writes v as one line of JSON on stdout.
func (s *IOStreams) printJSON(v any) {
	if err := s.writeJSON(v, ""); err != nil {
		fmt.Fprintf(s.ErrOut, "alexa-oos: encoding the result: %v\n", err)
	}
}

// writeJSON writes v as JSON and a newline on stdout, indented by indent
// when not "". Like every JSON the command writes, it keeps <, > and &
// as they are: the output is read by programs and people, not embedded
// in HTML.
func (s *IOStreams) writeJSON(v any, indent string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := s.Out.Write(buf.Bytes())
	return err
}

// warnf prints a warning on stderr. Warnings never change the exit status.
func (s *IOStreams) warnf(format string, args ...any) {
	fmt.Fprintf(s.ErrOut, "alexa-oos: warning: "+format+"\n", args...)
}
