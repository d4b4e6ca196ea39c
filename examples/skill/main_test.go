package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The whole loop on loopback: the emulator calls the example skill, which
// trusts only the emulator's CA (fetched from its admin endpoint, as a
// skill in another process does). A skill message sent with the messaging
// client arrives verified, a subscription change arrives, and a grant ends
// with the user's tokens in the skill's token file.
func TestSkillLoop(t *testing.T) {
	const user = "amzn1.ask.account.LOOP"
	ctx := context.Background()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	skillSrv := &httptest.Server{Listener: ln, Config: &http.Server{}}
	emu := alexatest.NewServer(alexatest.Options{SkillEndpoint: "http://" + ln.Addr().String() + "/alexa"})

	var logs syncBuffer
	file := filepath.Join(t.TempDir(), "tokens.json")
	store, err := lwa.NewFileStore(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg := emu.Config() // the skill's client id and secret, and the emulator's token URL
	h, err := NewHandler(ctx, emu.URL, cfg, store, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	skillSrv.Config.Handler = h
	skillSrv.Start()
	t.Cleanup(skillSrv.Close)
	t.Cleanup(emu.Close) // first

	// A skill message.
	if _, err := messaging.NewClient(emu.Config()).Send(ctx, user, &messaging.Message{Data: map[string]string{"reminder": "bins"}}); err != nil {
		t.Fatal(err)
	}
	if err := emu.WaitSkill(ctx); err != nil {
		t.Fatal(err)
	}
	if d := emu.Messages()[0].Skill; d.State != alexatest.DeliveryDelivered || d.StatusCode != 200 {
		t.Fatalf("message delivery %+v\nskill log:\n%s", d, logs.String())
	}
	if l := logs.String(); !strings.Contains(l, "message received") || !strings.Contains(l, user) || !strings.Contains(l, `{\"reminder\":\"bins\"}`) {
		t.Errorf("skill log:\n%s", l)
	}

	// A subscription, and then the Unicast event it allows.
	if err := emu.Subscribe(user, "AMAZON.MessageAlert.Activated"); err != nil {
		t.Fatal(err)
	}
	if err := emu.WaitSkill(ctx); err != nil {
		t.Fatal(err)
	}
	if l := logs.String(); !strings.Contains(l, "subscriptions changed") || !strings.Contains(l, "events=[AMAZON.MessageAlert.Activated]") {
		t.Errorf("skill log:\n%s", l)
	}
	if _, err := proactive.NewClient(emu.Config()).Create(ctx, alert(user), proactive.Development); err != nil {
		t.Errorf("event to the subscribed user: %v", err)
	}

	// A grant: the user's tokens end in the file, readable by its owner only.
	if err := emu.SendGrant(user); err != nil {
		t.Fatal(err)
	}
	if err := emu.WaitSkill(ctx); err != nil {
		t.Fatal(err)
	}
	if d := emu.SkillDeliveries(); d[len(d)-1].State != alexatest.DeliveryDelivered {
		t.Fatalf("grant delivery %+v\nskill log:\n%s", d[len(d)-1], logs.String())
	}
	reopened, err := lwa.NewFileStore(file)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := reopened.Load(ctx, user)
	if err != nil || !strings.HasPrefix(tok.AccessToken, "Atza|") || tok.RefreshToken == "" {
		t.Fatalf("stored token %v, %v", tok, err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file: %v %v", fi.Mode(), err)
	}
	// The stored tokens work: a forced refresh at the emulator succeeds.
	tok.AccessToken = ""
	reopened.Save(ctx, user, tok)
	if got, err := lwa.NewUserTokens(cfg, lwa.UserTokensOptions{Store: reopened}).Token(ctx, user); err != nil || got == "" {
		t.Errorf("refresh: %q %v", got, err)
	}
	if strings.Contains(logs.String(), tok.RefreshToken) {
		t.Error("the skill logged a refresh token")
	}

	// A request the emulator did not sign is refused.
	resp, err := http.Post(skillSrv.URL+"/alexa", "application/json", strings.NewReader(`{"version":"1.0","request":{"type":"Messaging.MessageReceived"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unsigned request: %d, want 400", resp.StatusCode)
	}
}

func alert(user string) *proactive.Request {
	now := time.Now()
	r := &proactive.Request{
		Timestamp: now, ExpiryTime: now.Add(time.Hour), ReferenceID: "loop-1",
		Event: proactive.Event{Name: "AMAZON.MessageAlert.Activated", Payload: map[string]any{
			"state":        map[string]any{"status": "UNREAD"},
			"messageGroup": map[string]any{"creator": map[string]any{"name": "Andy"}, "count": 1},
		}},
		LocalizedAttributes: []proactive.LocalizedAttribute{},
		RelevantAudience:    proactive.ToUser(user),
	}
	return r
}
