package messaging_test

import (
	"context"
	"fmt"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/messaging"
)

// A skill message that asks a reminders skill to update reminder XXXX for
// one user. The skill receives it as a
// Messaging.MessageReceived request.
func ExampleClient_Send() {
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	client := messaging.NewClient(srv.Config())

	res, err := client.Send(context.Background(), "amzn1.ask.account.XXXX", &messaging.Message{
		Data: map[string]string{"reminder_id": "XXXX"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.StatusCode)
	m := srv.Messages()[0]
	fmt.Println(m.UserID, string(m.Data), m.ExpiresAfterSeconds)
	// Output:
	// 202
	// amzn1.ask.account.XXXX {"reminder_id":"XXXX"} 3600
}
