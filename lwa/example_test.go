package lwa_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
)

// The seed's sample: an access token for the scope alexa:abc.
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
