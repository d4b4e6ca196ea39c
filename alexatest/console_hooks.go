package alexatest

// consoleHooks connects the console to the emulator's subscriptions, the
// subscribers a multicast event reached, and the skill endpoint's answers
// to delivered messages. recipients and skillAnswer run with the
// emulator's lock held: they read the record and take no lock.
func (e *Emulator) consoleHooks() consoleFeatures {
	return consoleFeatures{
		subscriptions: func() []consoleSubscription {
			var out []consoleSubscription
			for _, s := range e.Subscriptions() {
				for _, ev := range s.EventNames {
					out = append(out, consoleSubscription{User: s.UserID, Event: ev})
				}
			}
			return out
		},
		subscribe: func(user, event string, on bool) error {
			if on {
				return e.Subscribe(user, event)
			}
			return e.Unsubscribe(user, event)
		},
		recipients: func(ev *Event) []string { return ev.Subscribers },
		skillAnswer: func(m *Message) *consoleSkillAnswer {
			d := m.Skill
			if d == nil {
				return nil
			}
			return &consoleSkillAnswer{
				Pending:     d.State == DeliveryQueued || d.State == DeliverySending,
				Status:      d.StatusCode,
				LatencyMs:   float64(d.Latency.Microseconds()) / 1000,
				Error:       d.Error,
				Attempts:    d.Attempts,
				NextAttempt: d.NextAttempt,
			}
		},
	}
}
