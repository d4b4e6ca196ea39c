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

func (WeatherAlertType) enum() enumSet {
	return enumOf(AlertTornado, AlertHurricane, AlertSnowStorm, AlertThunderStorm)
}

// WeatherAlertActivated is the payload of AMAZON.WeatherAlert.Activated.
// Fields are required unless marked optional.
type WeatherAlertActivated struct {
	WeatherAlert WeatherAlert `json:"weatherAlert" schema:"required"`
}

// WeatherAlert is what the alert is about and who issued it.
type WeatherAlert struct {
	// Source names the issuer, usually WeatherSourcePlaceholder. Optional:
	// Jovo's docs require it, Amazon's typings do not.
	Source string `json:"source,omitempty" schema:"text=source"`
	// AlertType is required.
	AlertType WeatherAlertType `json:"alertType" schema:"required"`
}

// EventName returns SchemaWeatherAlert.
func (WeatherAlertActivated) EventName() string { return SchemaWeatherAlert }

var weatherAlertSchema = declare[WeatherAlertActivated](SchemaInfo{
	Template: "There is a <weatherAlert.alertType> alert for your area.[ Provided by <weatherAlert.source>.]",
	Example: func(time.Time) (Schema, map[string]string) {
		return WeatherAlertActivated{WeatherAlert{Source: WeatherSourcePlaceholder, AlertType: AlertSnowStorm}},
			map[string]string{"source": "Foo"}
	},
})
