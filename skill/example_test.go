package skill_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/skill"
)

// A skill handling skill messages, checked here with a request signed as
// Alexa signs them, by a signer the verifier is told to trust.
func ExampleHandler() {
	signer, err := alexatest.NewSkillSigner(alexatest.SkillSignerOptions{})
	if err != nil {
		panic(err)
	}
	h := &skill.Handler{
		Verifier: skill.NewVerifier(signer.VerifierOptions()),
		OnMessage: func(ctx context.Context, r *skill.MessageReceived) error {
			var data struct{ ReminderID string }
			if err := r.DecodeMessage(&data); err != nil {
				return err
			}
			fmt.Println("message for", r.UserID(), "about reminder", data.ReminderID)
			return nil
		},
	}

	body, _ := skill.Encode(skill.Context{System: skill.System{User: skill.User{UserID: "amzn1.ask.account.X"}}},
		&skill.MessageReceived{Common: skill.Common{RequestID: "r1", Timestamp: time.Now()}, Message: []byte(`{"reminderId":"42"}`)})
	req := httptest.NewRequest(http.MethodPost, "/alexa", bytes.NewReader(body))
	signer.Sign(req, body)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// message for amzn1.ask.account.X about reminder 42
	// 200 {"version":"1.0","response":{}}
}

// Verifying requests in front of any handler.
func ExampleVerifier_Middleware() {
	v := skill.NewVerifier(skill.VerifierOptions{ApplicationIDs: []string{"amzn1.ask.skill.1"}})
	mux := http.NewServeMux()
	mux.Handle("POST /alexa", v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// r.Body is the verified body.
		skill.WriteEmptyResponse(w)
	})))

	// A request without Alexa's signature is refused.
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/alexa", bytes.NewReader([]byte(`{}`))))
	fmt.Println(w.Code)
	// Output: 400
}
