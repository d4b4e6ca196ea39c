package cli

import (
	"fmt"

	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/spf13/cobra"
	"golang.org/x/oauth2"
)

func (a *app) tokenCommand() *cobra.Command {
	var scope string
	var refresh bool
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

The scopes of the out-of-session APIs are %s (Proactive Events)
and %s (Skill Messaging).`, EnvRefreshToken, lwa.ScopeProactiveEvents, lwa.ScopeSkillMessaging),
		Example: `  alexa-oos token --scope ` + proactive.Scope + `
  curl -H "Authorization: Bearer $(alexa-oos token --scope alexa:skill_messaging)" ...`,
		Args: exactArgs(0, "no arguments (the scope is --scope)"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			switch {
			case refresh && scope != "":
				return usagef("--scope and --refresh exclude each other")
			case !refresh && scope == "":
				return usagef("token: needs --scope SCOPE (such as %s) or --refresh", lwa.ScopeSkillMessaging)
			}
			t, err := a.resolve(refresh)
			if err != nil {
				return err
			}
			ctx, cancel := a.context(cmd)
			defer cancel()
			a.connect(t, "asking the built-in emulator at %s for a token, good only for that emulator, which stops when this command ends")
			defer t.close()
			p := lwa.NewProvider(t.cfg)
			var tok *oauth2.Token
			if refresh {
				tok, err = p.AccessTokenFromRefreshToken(ctx)
			} else {
				tok, err = p.AccessToken(ctx, scope)
			}
			if err != nil {
				return err
			}
			if !a.json() {
				fmt.Fprintln(a.env.Stdout, tok.AccessToken)
				return nil
			}
			grant := "client_credentials"
			if refresh {
				grant = "refresh_token"
			}
			out := struct {
				AccessToken string `json:"accessToken"`
				ExpiresAt   string `json:"expiresAt"`
				Scope       string `json:"scope"`
				GrantType   string `json:"grantType"`
				// Emulator is the URL of the built-in emulator the token
				// came from, and is only good for.
				Emulator string `json:"emulator,omitempty"`
			}{AccessToken: tok.AccessToken, ExpiresAt: proactive.FormatTime(tok.Expiry), Scope: scope, GrantType: grant}
			if t.srv != nil {
				out.Emulator = t.srv.URL
			}
			a.printJSON(out)
			return nil
		}),
	}
	cmd.Flags().StringVar(&scope, "scope", "", "the scope, such as "+lwa.ScopeSkillMessaging)
	cmd.Flags().BoolVar(&refresh, "refresh", false, "use the refresh token instead of a scope")
	return cmd
}
