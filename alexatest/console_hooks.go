package alexatest

// consoleHooks connects the console to the emulator's optional features:
// subscriptions, the subscribers a multicast event reached, and a skill
// endpoint's answers to delivered messages. A nil func hides its panel
// and control. Once the emulator simulates them, fill them in here, for
// example:
//
//	return consoleFeatures{
//		subscriptions: func() []consoleSubscription { ... from e.Subscriptions() ... },
//		subscribe: func(user, event string, on bool) error {
//			if on {
//				return e.Subscribe(user, event)
//			}
//			return e.Unsubscribe(user, event)
//		},
//		recipients:  func(ev *Event) []string { return ev.Recipients },
//		skillAnswer: func(m *Message) *consoleSkillAnswer { ... from m's delivery fields ... },
//	}
//
// recipients and skillAnswer run with the emulator's lock held: they
// read the record and take no lock.
func (e *Emulator) consoleHooks() consoleFeatures { return consoleFeatures{} }
