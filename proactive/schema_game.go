package proactive

import (
	"fmt"
	"time"
)

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

// InviteType says whether the invitation is a challenge or a plain invite.
type InviteType string

// The invite types.
const (
	InviteChallenge InviteType = "CHALLENGE"
	InviteInvite    InviteType = "INVITE"
)

// GameOffer is what is offered.
type GameOffer string

// The game offers.
const (
	OfferMatch   GameOffer = "MATCH"
	OfferRematch GameOffer = "REMATCH"
	OfferGame    GameOffer = "GAME"
)

var (
	relationships = enum[Relationship]{RelationshipFriend, RelationshipContact}
	inviteTypes   = enum[InviteType]{InviteChallenge, InviteInvite}
	gameOffers    = enum[GameOffer]{OfferMatch, OfferRematch, OfferGame}
)

// SocialGameInviteAvailable is the payload of
// AMAZON.SocialGameInvite.Available. Every field is required, the
// relationship in one of its two places.
type SocialGameInviteAvailable struct {
	Invite GameInvite `json:"invite"`
	Game   Game       `json:"game"`
}

// GameInvite is who invites, how they know the invitee, and how.
type GameInvite struct {
	Inviter Inviter `json:"inviter"`
	// RelationshipToInvitee is where Amazon's samples put it; set it here
	// or in Inviter, not both.
	RelationshipToInvitee Relationship `json:"relationshipToInvitee,omitempty"`
	InviteType            InviteType   `json:"inviteType"`
}

// Inviter is the person who invites.
type Inviter struct {
	// Name is said as is.
	Name string `json:"name"`
	// RelationshipToInvitee is where Jovo's docs put it; accepted as well.
	RelationshipToInvitee Relationship `json:"relationshipToInvitee,omitempty"`
}

// Game is the game and what is offered.
type Game struct {
	Offer GameOffer `json:"offer"`
	// Name is usually GameNamePlaceholder.
	Name string `json:"name"`
}

// EventName returns SchemaSocialGameInvite.
func (SocialGameInviteAvailable) EventName() string { return SchemaSocialGameInvite }

func (p SocialGameInviteAvailable) speak(text func(string) string) string {
	inv := p.Invite
	rel := inv.RelationshipToInvitee
	if rel == "" {
		rel = inv.Inviter.RelationshipToInvitee
	}
	verb := "invited"
	if inv.InviteType == InviteChallenge {
		verb = "challenged"
	}
	return fmt.Sprintf("Your %s %s %s you to a %s of %s.", words(rel), inv.Inviter.Name, verb, words(p.Game.Offer), text(p.Game.Name))
}

var socialGameInviteSchema = schemaDef{
	SchemaInfo: SchemaInfo{
		Name:        SchemaSocialGameInvite,
		EnUSOnly:    true,
		Template:    "Your <relationshipToInvitee> <inviter> invited (or challenged) you to a <offer> of <game>.",
		Approximate: true,
		Example: func(time.Time) (Schema, map[string]string) {
			return SocialGameInviteAvailable{
				Invite: GameInvite{Inviter: Inviter{Name: "Max"}, RelationshipToInvitee: RelationshipFriend, InviteType: InviteChallenge},
				Game:   Game{Offer: OfferMatch, Name: GameNamePlaceholder},
			}, map[string]string{"gameName": "Word Duel"}
		},
	},
	check: func(p node) {
		inv := p.object("invite", true)
		inviter := inv.object("inviter", true)
		inviter.str("name", true)
		// Either placement is accepted; with neither, the error names
		// Amazon's.
		if inv.has("relationshipToInvitee") || !inviter.has("relationshipToInvitee") {
			inv.enum("relationshipToInvitee", true, relationships)
		}
		inviter.enum("relationshipToInvitee", false, relationships)
		inv.enum("inviteType", true, inviteTypes)
		g := p.object("game", true)
		g.enum("offer", true, gameOffers)
		g.text("name", GameNamePlaceholder, true)
	},
	decode: func() speaker { return new(SocialGameInviteAvailable) },
}
