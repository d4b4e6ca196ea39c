package alexatest

import (
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/alexa-oos/alexa/internal/validate"
	"github.com/alexa-oos/alexa/skill"
)

// Authorization codes and users' tokens, as LWA issues them for the
// codes of Alexa.Authorization.Grant requests.
const (
	// GrantCodeLifetime is how long a code from SendGrant may be
	// exchanged, once.
	GrantCodeLifetime = 5 * time.Minute
	// maxGrantCodes bounds the codes waiting for their exchange; the
	// oldest is forgotten first.
	maxGrantCodes = 1000
	// maxUserRefreshTokens bounds the users' refresh tokens honoured; the
	// oldest is forgotten first (its refresh then gets invalid_grant).
	maxUserRefreshTokens = 10_000
	// userRefreshPrefix marks the refresh tokens issued for a code, so
	// that the token endpoint tells them from the skill's own.
	userRefreshPrefix = "Atzr|alexatest.user."
	// userTokenScope is the scope of users' access tokens: none of the
	// emulator's APIs accepts them.
	userTokenScope = "alexatest:user"
)

// grants is guarded by the emulator's mutex.
type grants struct {
	codes        map[string]grantCode // by code
	codeOrder    *ring[string]
	refresh      map[string]string // refresh token → userId
	refreshOrder *ring[string]
}

type grantCode struct {
	userID string
	expiry time.Time
}

func newGrants() *grants {
	g := &grants{codes: map[string]grantCode{}, refresh: map[string]string{}}
	g.codeOrder = newRing(maxGrantCodes, math.MaxInt64, func(*string) int64 { return 0 })
	g.codeOrder.onEvict = func(c *string) { delete(g.codes, *c) }
	g.refreshOrder = newRing(maxUserRefreshTokens, math.MaxInt64, func(*string) int64 { return 0 })
	g.refreshOrder.onEvict = func(t *string) { delete(g.refresh, *t) }
	return g
}

func (g *grants) reset() {
	g.codes, g.refresh = map[string]grantCode{}, map[string]string{}
	g.codeOrder.reset()
	g.refreshOrder.reset()
}

// SendGrant sends the skill an Alexa.Authorization.Grant request for
// userID, as Alexa does when a user grants a permission the skill uses out
// of session. Its code may be exchanged once at the emulator's token
// endpoint (grant_type=authorization_code, with the skill's client
// credentials) within GrantCodeLifetime, for an access token and a
// refresh token of that user; the refresh token then works with
// grant_type=refresh_token until RevokeUserTokens. So a skill built with
// skill.StoreGrant(lwa.NewUserTokens(srv.Config(), ...)) ends with the
// user's tokens stored. The request is sent in the background (see
// WaitSkill). Without a skill endpoint the error is ErrNoSkillEndpoint; a
// bad userId is an *alexa.ValidationError.
func (e *Emulator) SendGrant(userID string) error {
	j, err := e.sendGrant("alexatest.SendGrant", userID)
	e.sk.enqueue(j)
	return err
}

func (e *Emulator) sendGrant(op, userID string) (*skillJob, error) {
	var vs validate.Violations
	if userID == "" {
		vs.Add("userId", "is required: the userId the skill sees in its requests", nil)
	}
	vs.AddUserID("userId", userID)
	if err := vs.Err(op); err != nil {
		return nil, err
	}
	if e.sk.endpoint == "" {
		return nil, ErrNoSkillEndpoint
	}
	code := "ANalexatest" + randomHex(16)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.grants.codes[code] = grantCode{userID: userID, expiry: time.Now().Add(GrantCodeLifetime)}
	e.grants.codeOrder.push(code)
	return e.sk.prepare(userID, &skill.AuthorizationGrant{Body: skill.GrantBody{Grant: skill.Grant{
		Type: skill.GrantTypeAuthorizationCode, Code: skill.Secret(code),
	}}}), nil
}

// RevokeUserTokens makes the refresh tokens issued for userID's codes
// invalid, as when the user withdraws the permission: a refresh is then
// refused with invalid_grant, which lwa.UserTokens reports as
// lwa.ErrRelinkRequired. Access tokens already issued run out on their
// own. It returns how many refresh tokens it revoked.
func (e *Emulator) RevokeUserTokens(userID string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for t, u := range e.grants.refresh {
		if u == userID {
			delete(e.grants.refresh, t)
			n++
		}
	}
	return n
}

// redeemUser checks the code of an authorization_code request, or a
// user's refresh token, and returns the user; on failure, the LWA error.
// A code works once.
func (e *Emulator) redeemUser(grant, code, refresh string) (userID string, status int, errCode, desc string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if grant == "refresh_token" {
		u, ok := e.grants.refresh[refresh]
		if !ok {
			return "", http.StatusBadRequest, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
		}
		return u, http.StatusOK, "", ""
	}
	c, ok := e.grants.codes[code]
	delete(e.grants.codes, code)
	if !ok || time.Now().After(c.expiry) {
		return "", http.StatusBadRequest, "invalid_grant", "The request has an invalid grant parameter : code"
	}
	return c.userID, http.StatusOK, "", ""
}

// newUserRefresh issues a refresh token for userID; the caller holds e.mu.
func (e *Emulator) newUserRefresh(userID string) string {
	t := userRefreshPrefix + randomHex(24)
	e.grants.refresh[t] = userID
	e.grants.refreshOrder.push(t)
	return t
}

func isUserRefresh(t string) bool { return strings.HasPrefix(t, userRefreshPrefix) }

// GrantRequest is the JSON body of POST /_emulator/grants.
type GrantRequest struct {
	UserID string `json:"userId"`
}

// GrantResult is the answer of POST /_emulator/grants: the request sent
// to the skill, once answered. The code is not shown.
type GrantResult struct {
	UserID   string        `json:"userId"`
	Delivery SkillDelivery `json:"delivery"`
}

func (e *Emulator) grantRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+AdminGrants, func(w http.ResponseWriter, r *http.Request) {
		var g GrantRequest
		if !decodeAdmin(w, r, &g) {
			return
		}
		j, err := e.sendGrant("", g.UserID)
		if err == ErrNoSkillEndpoint {
			apiError(w, http.StatusConflict, "NO_SKILL_ENDPOINT", "no skill endpoint is set: start the emulator with --skill-endpoint URL (Options.SkillEndpoint)", nil)
			return
		}
		if err != nil {
			invalid(w, err)
			return
		}
		e.sk.enqueue(j)
		writeJSON(w, GrantResult{UserID: g.UserID, Delivery: e.sk.wait(r.Context(), j)})
	})
}
