// Package messaging is the client of the Alexa Skill Messaging API: the
// seed's SkillMessagingServiceClient. A message wakes the skill with a
// Messaging.MessageReceived request for one customer, so it can act for
// them outside a voice session (update a reminder, a list, …).
//
// Shortest use:
//
//	c := messaging.NewClient(alexa.Config{Credentials: creds})
//	_, err := c.Send(ctx, userID, &messaging.Message{Data: map[string]string{"reminderId": "42"}})
package messaging
