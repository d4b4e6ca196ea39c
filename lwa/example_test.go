package lwa_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
)

// An access token for the scope alexa:abc.
func ExampleProvider_Token() {
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	tokens := lwa.NewProvider(srv.Config())

	token, err := tokens.Token(context.Background(), "alexa:abc")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.HasPrefix(token, "Atza|"))
	req := srv.TokenRequests()[0]
	fmt.Println(req.GrantType, req.Scope)
	// Output:
	// true
	// client_credentials alexa:abc
}

// Clients share tokens by sharing one Provider, set as Config.Tokens: the
// proactive and the messaging client below, and every client built later
// from cfg, use one cache, and LWA is asked once per scope.
func ExampleNewProvider() {
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	cfg := srv.Config() // against Alexa: alexa.Config{Credentials: ...}
	cfg.Tokens = lwa.NewProvider(cfg)

	ctx := context.Background()
	for range 3 {
		// Built per request, as a serverless handler may: the tokens stay.
		if _, err := messaging.NewClient(cfg).Send(ctx, "amzn1.ask.account.XXXX", nil); err != nil {
			fmt.Println(err)
			return
		}
	}
	for _, r := range srv.TokenRequests() {
		fmt.Println(r.GrantType, r.Scope)
	}
	// Output:
	// client_credentials alexa:skill_messaging
}
