package proactive

import "time"

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

func (MediaMethod) enum() enumSet {
	return enumOf(MethodStream, MethodAir, MethodRelease, MethodPremiere, MethodDrop)
}

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

func (MediaContentType) enum() enumSet {
	return enumOf(ContentBook, ContentEpisode, ContentAlbum, ContentSingle, ContentMovie, ContentGame)
}

// MediaContentAvailable is the payload of AMAZON.MediaContent.Available.
// Fields are required unless marked optional.
type MediaContentAvailable struct {
	Availability Availability `json:"availability" schema:"required"`
	Content      MediaContent `json:"content" schema:"required"`
}

// Availability is when, how and where the content comes out.
type Availability struct {
	// StartTime is an ISO 8601 date-time (FormatTime renders one).
	StartTime string `json:"startTime" schema:"required,time"`
	// Provider is optional; its name is usually ProviderNamePlaceholder.
	Provider *Named      `json:"provider,omitempty" schema:"text=providerName"`
	Method   MediaMethod `json:"method" schema:"required"`
}

// MediaContent is the content's name and kind.
type MediaContent struct {
	// Name is usually ContentNamePlaceholder.
	Name        string           `json:"name" schema:"required,text=contentName"`
	ContentType MediaContentType `json:"contentType" schema:"required"`
}

// EventName returns SchemaMediaContent.
func (MediaContentAvailable) EventName() string { return SchemaMediaContent }

var mediaContentSchema = declare[MediaContentAvailable](SchemaInfo{
	Template: "<content.name> will <availability.method> on <availability.startTime>[ on <availability.provider.name>].",
	Example: func(now time.Time) (Schema, map[string]string) {
		return MediaContentAvailable{
			Availability: Availability{StartTime: FormatTime(ahead(now, 36*time.Hour)), Provider: &Named{ProviderNamePlaceholder}, Method: MethodAir},
			Content:      MediaContent{Name: ContentNamePlaceholder, ContentType: ContentEpisode},
		}, map[string]string{"contentName": "The Harbour, season 2", "providerName": "Example TV"}
	},
})
