package proactive

import "time"

// SchemaSocialGameInvite is the event name of a game invitation. Alexa
// supports it in en-US only.
const SchemaSocialGameInvite = "AMAZON.SocialGameInvite.Available"

// GameNamePlaceholder is the conventional value of the game's name,
// localized through the "gameName" attribute.
const GameNamePlaceholder = PlaceholderPrefix + "gameName"

// Relationship is how the inviter knows the invitee.
type Relationship string

// The relationships.
const (
	RelationshipFriend  Relationship = "FRIEND"
	RelationshipContact Relationship = "CONTACT"
)

func (Relationship) enum() enumSet { return enumOf(RelationshipFriend, RelationshipContact) }

// InviteType says whether the invitation is a challenge or a plain invite.
type InviteType string

// The invite types.
const (
	InviteChallenge InviteType = "CHALLENGE"
	InviteInvite    InviteType = "INVITE"
)

func (InviteType) enum() enumSet { return enumOf(InviteChallenge, InviteInvite) }

// GameOffer is what is offered.
type GameOffer string

// The game offers.
const (
	OfferMatch   GameOffer = "MATCH"
	OfferRematch GameOffer = "REMATCH"
	OfferGame    GameOffer = "GAME"
)

func (GameOffer) enum() enumSet { return enumOf(OfferMatch, OfferRematch, OfferGame) }

// SocialGameInviteAvailable is the payload of
// AMAZON.SocialGameInvite.Available. Every field is required, the
// relationship in one of its two places.
type SocialGameInviteAvailable struct {
	Invite GameInvite `json:"invite" schema:"required"`
	Game   Game       `json:"game" schema:"required"`
}

// GameInvite is who invites, how they know the invitee, and how.
type GameInvite struct {
	Inviter Inviter `json:"inviter" schema:"required"`
	// RelationshipToInvitee is where Amazon's samples put it; set it here
	// or in Inviter, not both. With neither, the error names this one.
	RelationshipToInvitee Relationship `json:"relationshipToInvitee,omitempty" schema:"required,or=inviter.relationshipToInvitee"`
	InviteType            InviteType   `json:"inviteType" schema:"required"`
}

// Inviter is the person who invites.
type Inviter struct {
	// Name is said as is.
	Name string `json:"name" schema:"required"`
	// RelationshipToInvitee is where Jovo's docs put it; accepted as well.
	RelationshipToInvitee Relationship `json:"relationshipToInvitee,omitempty"`
}

// Game is the game and what is offered.
type Game struct {
	Offer GameOffer `json:"offer" schema:"required"`
	// Name is usually GameNamePlaceholder.
	Name string `json:"name" schema:"required,text=gameName"`
}

// EventName returns SchemaSocialGameInvite.
func (SocialGameInviteAvailable) EventName() string { return SchemaSocialGameInvite }

var socialGameInviteSchema = declare[SocialGameInviteAvailable](SchemaInfo{
	EnUSOnly: true,
	Template: "Your <invite.relationshipToInvitee> <invite.inviter.name> <invite.inviteType?CHALLENGE=challenged|invited> " +
		"you to a <game.offer> of <game.name>.",
	Approximate: true,
	Example: func(time.Time) (Schema, map[string]string) {
		return SocialGameInviteAvailable{
			Invite: GameInvite{Inviter: Inviter{Name: "Max"}, RelationshipToInvitee: RelationshipFriend, InviteType: InviteChallenge},
			Game:   Game{Offer: OfferMatch, Name: GameNamePlaceholder},
		}, map[string]string{"gameName": "Word Duel"}
	},
})
