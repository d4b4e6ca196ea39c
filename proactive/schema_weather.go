package proactive

import "time"

// SchemaWeatherAlert is the event name of a weather alert.
const SchemaWeatherAlert = "AMAZON.WeatherAlert.Activated"

// WeatherSourcePlaceholder is the conventional value of WeatherAlert.Source:
// the provider's name, localized through the "source" attribute.
const WeatherSourcePlaceholder = PlaceholderPrefix + "source"

// WeatherAlertType is the kind of a weather alert.
type WeatherAlertType string

// The weather alert types.
const (
	AlertTornado      WeatherAlertType = "TORNADO"
	AlertHurricane    WeatherAlertType = "HURRICANE"
	AlertSnowStorm    WeatherAlertType = "SNOW_STORM"
	AlertThunderStorm WeatherAlertType = "THUNDER_STORM"
)

var weatherAlertTypes = enum[WeatherAlertType]{AlertTornado, AlertHurricane, AlertSnowStorm, AlertThunderStorm}

// WeatherAlertActivated is the payload of AMAZON.WeatherAlert.Activated.
// Fields are required unless marked optional.
type WeatherAlertActivated struct {
	WeatherAlert WeatherAlert `json:"weatherAlert"`
}

// WeatherAlert is what the alert is about and who issued it.
type WeatherAlert struct {
	// Source names the issuer, usually WeatherSourcePlaceholder. Optional:
	// Jovo's docs require it, Amazon's typings do not.
	Source string `json:"source,omitempty"`
	// AlertType is required.
	AlertType WeatherAlertType `json:"alertType"`
}

// EventName returns SchemaWeatherAlert.
func (WeatherAlertActivated) EventName() string { return SchemaWeatherAlert }

func (p WeatherAlertActivated) speak(text func(string) string) string {
	s := "There is a " + words(p.WeatherAlert.AlertType) + " alert for your area."
	if src := text(p.WeatherAlert.Source); src != "" {
		s += " Provided by " + src + "."
	}
	return s
}

var weatherAlertSchema = schemaDef{
	SchemaInfo: SchemaInfo{
		Name:     SchemaWeatherAlert,
		Template: "There is a <alertType> alert for your area. Provided by <source>.",
		Example: func(time.Time) (Schema, map[string]string) {
			return WeatherAlertActivated{WeatherAlert{Source: WeatherSourcePlaceholder, AlertType: AlertSnowStorm}},
				map[string]string{"source": "Foo"}
		},
	},
	check: func(p node) {
		w := p.object("weatherAlert", true)
		w.text("source", WeatherSourcePlaceholder, false)
		w.enum("alertType", true, weatherAlertTypes)
	},
	decode: func() speaker { return new(WeatherAlertActivated) },
}
