// Package lwa gets Login-with-Amazon access tokens for a skill's client
// credentials: the seed's LwaClient, done right.
//
// A [Provider] exchanges the client id and secret for a token of a scope
// (grant_type=client_credentials) or uses the refresh token
// (grant_type=refresh_token), through golang.org/x/oauth2, so every form
// value is encoded. Tokens are cached per credentials and token URL, keyed
// by scope, and shared by every Provider built from the same credentials:
// however many goroutines ask at once, one request per scope goes to LWA.
//
// Shortest use:
//
//	p := lwa.NewProvider(alexa.Config{Credentials: alexa.Credentials{ClientID: id, ClientSecret: secret}})
//	token, err := p.Token(ctx, "alexa:abc")
package lwa
