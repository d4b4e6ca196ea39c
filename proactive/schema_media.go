package proactive

import (
	"fmt"
	"time"
)

// SchemaMediaContent is the event name of a media release notice.
const SchemaMediaContent = "AMAZON.MediaContent.Available"

// ContentNamePlaceholder is the conventional value of the content's name,
// localized through the "contentName" attribute.
const ContentNamePlaceholder = PlaceholderPrefix + "contentName"

// MediaMethod is how the content becomes available.
type MediaMethod string

// The availability methods.
const (
	MethodStream   MediaMethod = "STREAM"
	MethodAir      MediaMethod = "AIR"
	MethodRelease  MediaMethod = "RELEASE"
	MethodPremiere MediaMethod = "PREMIERE"
	MethodDrop     MediaMethod = "DROP"
)

// MediaContentType is what kind of content it is.
type MediaContentType string

// The content types.
const (
	ContentBook    MediaContentType = "BOOK"
	ContentEpisode MediaContentType = "EPISODE"
	ContentAlbum   MediaContentType = "ALBUM"
	ContentSingle  MediaContentType = "SINGLE"
	ContentMovie   MediaContentType = "MOVIE"
	ContentGame    MediaContentType = "GAME"
)

var (
	mediaMethods      = enum[MediaMethod]{MethodStream, MethodAir, MethodRelease, MethodPremiere, MethodDrop}
	mediaContentTypes = enum[MediaContentType]{ContentBook, ContentEpisode, ContentAlbum, ContentSingle, ContentMovie, ContentGame}
)

// MediaContentAvailable is the payload of AMAZON.MediaContent.Available.
// Fields are required unless marked optional.
type MediaContentAvailable struct {
	Availability Availability `json:"availability"`
	Content      MediaContent `json:"content"`
}

// Availability is when, how and where the content comes out.
type Availability struct {
	// StartTime is an ISO 8601 date-time (FormatTime renders one).
	StartTime string `json:"startTime"`
	// Provider is optional; its name is usually ProviderNamePlaceholder.
	Provider *Named      `json:"provider,omitempty"`
	Method   MediaMethod `json:"method"`
}

// MediaContent is the content's name and kind.
type MediaContent struct {
	// Name is usually ContentNamePlaceholder.
	Name        string           `json:"name"`
	ContentType MediaContentType `json:"contentType"`
}

// EventName returns SchemaMediaContent.
func (MediaContentAvailable) EventName() string { return SchemaMediaContent }

func (p MediaContentAvailable) speak(text func(string) string) string {
	a := p.Availability
	s := fmt.Sprintf("%s will %s on %s", text(p.Content.Name), words(a.Method), spokenTime(a.StartTime))
	if a.Provider != nil {
		s += " on " + text(a.Provider.Name)
	}
	return s + "."
}

var mediaContentSchema = schemaDef{
	SchemaInfo: SchemaInfo{
		Name:     SchemaMediaContent,
		Template: "<content> will <method> on <startTime> on <provider>.",
		Example: func(now time.Time) (Schema, map[string]string) {
			return MediaContentAvailable{
				Availability: Availability{StartTime: FormatTime(ahead(now, 36*time.Hour)), Provider: &Named{ProviderNamePlaceholder}, Method: MethodAir},
				Content:      MediaContent{Name: ContentNamePlaceholder, ContentType: ContentEpisode},
			}, map[string]string{"contentName": "The Harbour, season 2", "providerName": "Example TV"}
		},
	},
	check: func(p node) {
		a := p.object("availability", true)
		a.time("startTime", true)
		a.object("provider", false).text("name", ProviderNamePlaceholder, true)
		a.enum("method", true, mediaMethods)
		c := p.object("content", true)
		c.text("name", ContentNamePlaceholder, true)
		c.enum("contentType", true, mediaContentTypes)
	},
	decode: func() speaker { return new(MediaContentAvailable) },
}
