package lwa_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/lwa"
)

// A user's token for an API called on their behalf (Reminders, Lists, …),
// from the code of the Alexa.Authorization.Grant request the skill got.
func ExampleUserTokens() {
	srv := exampleLWA()
	defer srv.Close()
	cfg := alexa.Config{
		Credentials: alexa.Credentials{ClientID: "amzn1.application-oa2-client.X", ClientSecret: "secret"},
		TokenURL:    srv.URL, // omit for Amazon's
	}
	// lwa.NewFileStore(path) keeps the tokens across restarts.
	users := lwa.NewUserTokens(cfg, lwa.UserTokensOptions{Store: lwa.NewMemoryStore()})
	ctx := context.Background()

	// In the OnGrant handler (skill.StoreGrant does this):
	if _, err := users.Exchange(ctx, "amzn1.ask.account.X", "code-from-grant"); err != nil {
		fmt.Println("exchange:", err)
		return
	}
	// Whenever the skill acts for the user; refreshed as needed:
	tok, err := users.Token(ctx, "amzn1.ask.account.X")
	switch {
	case errors.Is(err, lwa.ErrRelinkRequired), errors.Is(err, lwa.ErrNoUserToken):
		fmt.Println("ask the user to grant the permission again")
	case err != nil:
		fmt.Println("token:", err)
	default:
		fmt.Println("token", tok)
	}
	// Output: token Atza|user
}

// exampleLWA answers token requests as LWA does.
func exampleLWA() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"Atza|user","refresh_token":"Atzr|user","token_type":"bearer","expires_in":3600}`)
	}))
}
