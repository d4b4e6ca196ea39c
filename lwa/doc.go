// Package lwa gets Login-with-Amazon access tokens for a skill's client
// credentials, and keeps users' tokens for the APIs a skill calls on
// their behalf.
//
// A [Provider] exchanges the client id and secret for a token of a scope
// (grant_type=client_credentials, [Provider.Token]) or uses the refresh
// token (grant_type=refresh_token, [Provider.TokenFromRefreshToken]),
// through golang.org/x/oauth2, so every form value is encoded.
//
// Each Provider owns its cache, keyed by scope: however many goroutines
// ask it at once, one request per scope goes to LWA, and the token is
// reused until it is within Config.RefreshMargin of expiry. The API
// clients share tokens when they share the Provider, given as
// Config.Tokens; a client built from a Config without Tokens makes a
// Provider, and a cache, of its own. Build one Provider per set of
// credentials and keep it for the life of the process:
//
//	cfg := alexa.Config{Credentials: alexa.Credentials{ClientID: id, ClientSecret: secret}}
//	cfg.Tokens = lwa.NewProvider(cfg)
//	events, messages := proactive.NewClient(cfg), messaging.NewClient(cfg) // one token cache
//
// Shortest use on its own:
//
//	token, err := lwa.NewProvider(cfg).Token(ctx, "alexa:abc")
//
// [UserTokens] exchanges a user's authorization code and refreshes the
// user's tokens, kept in a [TokenStore].
package lwa
