// Command skill is a skill's web service for Alexa's out-of-session
// requests: it verifies each request, logs skill messages and subscription
// changes, and keeps the user tokens of grants in a file (mode 0600).
//
// With ALEXA_EMULATOR_URL set, it trusts only that alexa-oos emulator's CA
// and exchanges grant codes at the emulator's token endpoint:
//
//	alexa-oos emulator --skill-endpoint http://127.0.0.1:8080/ &   # prints the exports
//	go run ./examples/skill &
//	alexa-oos message send --user amzn1.ask.account.X --data-file examples/messages/skill-message.json
//	alexa-oos emulator subscribe --user amzn1.ask.account.X --event AMAZON.MessageAlert.Activated
//	alexa-oos emulator grant --user amzn1.ask.account.X
//
// Without it, it verifies requests as Alexa's (system roots) and uses
// Amazon's LWA: serve it with TLS on port 443, or behind a proxy that does.
package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"os"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/skill"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	tokens := flag.String("tokens", "user-tokens.json", "file keeping users' tokens")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	store, err := lwa.NewFileStore(*tokens)
	if err != nil {
		log.Error("token file", "error", err)
		os.Exit(1)
	}
	emulator := os.Getenv("ALEXA_EMULATOR_URL")
	cfg := alexa.Config{TokenURL: os.Getenv("ALEXA_TOKEN_URL"), Credentials: alexa.Credentials{
		ClientID: os.Getenv("ALEXA_CLIENT_ID"), ClientSecret: os.Getenv("ALEXA_CLIENT_SECRET")}}
	if emulator != "" && cfg.TokenURL == "" {
		cfg.TokenURL = emulator + alexatest.TokenPath
	}
	h, err := NewHandler(context.Background(), emulator, cfg, store, log)
	if err != nil {
		log.Error("verifier", "error", err)
		os.Exit(1)
	}
	log.Info("skill listening", "addr", *addr, "emulator", emulator)
	log.Error("serve", "error", http.ListenAndServe(*addr, h))
	os.Exit(1)
}

// NewHandler returns the skill's handler. With emulatorURL set it trusts
// only that emulator; cfg gives the skill's credentials and token URL.
func NewHandler(ctx context.Context, emulatorURL string, cfg alexa.Config, store lwa.TokenStore, log *slog.Logger) (http.Handler, error) {
	vo := skill.VerifierOptions{} // Alexa's requests: the system roots
	if emulatorURL != "" {
		var err error
		if vo, err = alexatest.RemoteSkillVerifierOptions(ctx, emulatorURL); err != nil {
			return nil, err
		}
	}
	vo.Logger = log
	users := lwa.NewUserTokens(cfg, lwa.UserTokensOptions{Store: store})
	return &skill.Handler{
		Verifier: skill.NewVerifier(vo),
		OnMessage: func(ctx context.Context, r *skill.MessageReceived) error {
			log.Info("message received", "user", r.UserID(), "message", string(r.Message))
			return nil
		},
		OnSubscriptionChanged: func(ctx context.Context, r *skill.ProactiveSubscriptionChanged) error {
			log.Info("subscriptions changed", "user", r.UserID(), "events", r.EventNames())
			return nil
		},
		OnGrant: skill.StoreGrant(users),
	}, nil
}
