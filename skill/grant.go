package skill

import (
	"context"
	"fmt"

	"github.com/alexa-oos/alexa/lwa"
)

// StoreGrant returns an OnGrant function that exchanges the grant's code
// with LWA for the user's tokens and stores them in users' store, keyed by
// the request's userId:
//
//	h := &skill.Handler{OnGrant: skill.StoreGrant(users)}
//
// Later, users.Token(ctx, userID) gives a valid access token for that
// user, refreshed as needed. A failed exchange is an error, so the
// Handler answers 500 and logs it.
func StoreGrant(users *lwa.UserTokens) func(context.Context, *AuthorizationGrant) error {
	return func(ctx context.Context, r *AuthorizationGrant) error {
		if t := r.Body.Grant.Type; t != "" && t != GrantTypeAuthorizationCode {
			return fmt.Errorf("skill: Alexa.Authorization.Grant: grant type %q, want %q", truncate(t, 80), GrantTypeAuthorizationCode)
		}
		_, err := users.Exchange(ctx, r.UserID(), string(r.Body.Grant.Code))
		return err
	}
}
