package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/spf13/cobra"
	"golang.org/x/oauth2"
)

// TokenOptions are the inputs of token.
type TokenOptions struct {
	IO     *IOStreams
	Target func(needRefresh bool) (*target, error)

	// Scope is --scope; "" with Refresh.
	Scope string
	// Refresh asks for a token with the refresh token instead (--refresh).
	Refresh bool
	Timeout time.Duration
}

// NewCmdToken returns the token command; runF, when not nil, runs instead
// of runToken.
func NewCmdToken(f *Factory, runF func(*TokenOptions) error) *cobra.Command {
	opts := &TokenOptions{IO: f.IO, Target: f.Target}
	cmd := &cobra.Command{
		Use:   "token (--scope SCOPE | --refresh)",
		Short: "Print a Login-with-Amazon access token",
		Long: fmt.Sprintf(`Print an access token for SCOPE, obtained with the skill's client
credentials, or with --refresh one obtained with the refresh token
(%s or --refresh-token-file). The token is the only output; -o json prints
{"accessToken", "expiresAt", "scope", "grantType"}.

Without credentials the token comes from the built-in emulator, which stops
when the command ends: such a token is good for nothing else (-o json adds
"emulator": its URL).

The scopes of the out-of-session APIs are %s (Proactive Events),
%s (Skill Messaging) and %s (DataStore).`, EnvRefreshToken, lwa.ScopeProactiveEvents, lwa.ScopeSkillMessaging, lwa.ScopeDataStore),
		Example: `  alexa-oos token --scope ` + proactive.Scope + `
  curl -H "Authorization: Bearer $(alexa-oos token --scope alexa:skill_messaging)" ...`,
		Args: exactArgs(0, "no arguments (the scope is --scope)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case opts.Refresh && opts.Scope != "":
				return usagef("--scope and --refresh exclude each other")
			case !opts.Refresh && opts.Scope == "":
				return usagef("token: needs --scope SCOPE (such as %s) or --refresh", lwa.ScopeSkillMessaging)
			}
			opts.Timeout = f.timeout
			if runF != nil {
				return runF(opts)
			}
			return runToken(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Scope, "scope", "", "the scope, such as "+lwa.ScopeSkillMessaging)
	cmd.Flags().BoolVar(&opts.Refresh, "refresh", false, "use the refresh token instead of a scope")
	return cmd
}

// tokenResult is the -o json form of token.
type tokenResult struct {
	AccessToken string `json:"accessToken"`
	ExpiresAt   string `json:"expiresAt"`
	Scope       string `json:"scope"`
	GrantType   string `json:"grantType"`
	// Emulator is the URL of the built-in emulator the token came from,
	// and is only good for.
	Emulator string `json:"emulator,omitempty"`
}

// runToken fetches the token and prints it.
func runToken(ctx context.Context, opts *TokenOptions) error {
	t, err := opts.Target(opts.Refresh)
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(ctx, opts.Timeout)
	defer cancel()
	t.connect("asking the built-in emulator at %s for a token, good only for that emulator, which stops when this command ends", alexatest.Options{})
	defer t.close()
	p := lwa.NewProvider(t.cfg)
	var tok *oauth2.Token
	grant := "client_credentials"
	if opts.Refresh {
		grant = "refresh_token"
		tok, err = p.AccessTokenFromRefreshToken(ctx)
	} else {
		tok, err = p.AccessToken(ctx, opts.Scope)
	}
	if err != nil {
		return err
	}
	if !opts.IO.JSON() {
		fmt.Fprintln(opts.IO.Out, tok.AccessToken)
		return nil
	}
	out := tokenResult{AccessToken: tok.AccessToken, ExpiresAt: proactive.FormatTime(tok.Expiry), Scope: opts.Scope, GrantType: grant}
	if t.srv != nil {
		out.Emulator = t.srv.URL
	}
	opts.IO.printJSON(out)
	return nil
}
