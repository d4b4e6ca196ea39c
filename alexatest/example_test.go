package alexatest_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/skill"
)

// A skill under test and the emulator that calls it: make the signer
// first, so that the skill can trust it before the emulator exists, and
// the emulator can know the skill's URL.
func Example_skillUnderTest() {
	signer, err := alexatest.NewSkillSigner(alexatest.SkillSignerOptions{})
	if err != nil {
		panic(err)
	}
	got := make(chan string, 1)
	mySkill := httptest.NewServer(&skill.Handler{
		Verifier: skill.NewVerifier(signer.VerifierOptions()), // trusts the emulator's CA only
		OnMessage: func(ctx context.Context, r *skill.MessageReceived) error {
			got <- string(r.Message)
			return nil
		},
	})
	defer mySkill.Close()
	srv := alexatest.NewServer(alexatest.Options{SkillEndpoint: mySkill.URL, Skill: alexatest.SkillOptions{Signer: signer}})
	defer srv.Close()

	const user = "amzn1.ask.account.EXAMPLE"
	if _, err := messaging.NewClient(srv.Config()).Send(context.Background(), user, &messaging.Message{Data: map[string]string{"reminder": "water the plants"}}); err != nil {
		panic(err)
	}
	srv.WaitSkill(context.Background())
	fmt.Println("the skill got", <-got)
	fmt.Println("delivery:", srv.SkillDeliveries()[0].State)
	// Output:
	// the skill got {"reminder":"water the plants"}
	// delivery: delivered
}

// A test of code that sends: the emulator records what arrived.
func Example() {
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	const user = "amzn1.ask.account.EXAMPLE"
	client := messaging.NewClient(srv.Config()) // the emulator's endpoint, token URL and credentials
	if _, err := client.Send(context.Background(), user, &messaging.Message{Data: map[string]int{"count": 3}}); err != nil {
		panic(err)
	}
	for _, m := range srv.MessagesFor(user) {
		fmt.Println(string(m.Data))
	}
	// Output:
	// {"count":3}
}
