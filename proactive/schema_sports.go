package proactive

import "time"

// SchemaSportsEvent is the event name of a score update.
const SchemaSportsEvent = "AMAZON.SportsEvent.Updated"

// EventLeagueNamePlaceholder is the conventional value of the league's
// name, localized through the "eventLeagueName" attribute.
const EventLeagueNamePlaceholder = PlaceholderPrefix + "eventLeagueName"

// SportsEventUpdated is the payload of AMAZON.SportsEvent.Updated.
// Fields are required unless marked optional.
type SportsEventUpdated struct {
	// Update is the score that caused the event; optional.
	Update *ScoreUpdate `json:"update,omitempty"`
	// SportsEvent is the game and its current score.
	SportsEvent SportsEvent `json:"sportsEvent" schema:"required"`
}

// ScoreUpdate is who just scored and how much.
type ScoreUpdate struct {
	// ScoreEarned is the points just scored, 0 or more.
	ScoreEarned int `json:"scoreEarned" schema:"required"`
	// TeamName is the team that scored, said as is.
	TeamName string `json:"teamName" schema:"required"`
}

// SportsEvent is a game: its league and both teams' scores.
type SportsEvent struct {
	// EventLeague.Name is usually EventLeagueNamePlaceholder.
	EventLeague       Named         `json:"eventLeague" schema:"required,text=eventLeagueName"`
	HomeTeamStatistic TeamStatistic `json:"homeTeamStatistic" schema:"required"`
	AwayTeamStatistic TeamStatistic `json:"awayTeamStatistic" schema:"required"`
}

// TeamStatistic is one team's score.
type TeamStatistic struct {
	// Team.Name is said as is.
	Team Named `json:"team" schema:"required"`
	// Score is 0 or more.
	Score int `json:"score" schema:"required"`
}

// Named is the {"name": …} object many schemas use for a person, team,
// seller or provider.
type Named struct {
	Name string `json:"name" schema:"required"`
}

// EventName returns SchemaSportsEvent.
func (SportsEventUpdated) EventName() string { return SchemaSportsEvent }

var sportsEventSchema = declare[SportsEventUpdated](SchemaInfo{
	Template: "Update on <sportsEvent.eventLeague.name>: " +
		"<sportsEvent.homeTeamStatistic.team.name> <sportsEvent.homeTeamStatistic.score>, " +
		"<sportsEvent.awayTeamStatistic.team.name> <sportsEvent.awayTeamStatistic.score>." +
		"[ <update.teamName> scored <update.scoreEarned>.]",
	Approximate: true,
	Example: func(time.Time) (Schema, map[string]string) {
		return SportsEventUpdated{
			Update: &ScoreUpdate{ScoreEarned: 1, TeamName: "Arsenal"},
			SportsEvent: SportsEvent{
				EventLeague:       Named{EventLeagueNamePlaceholder},
				HomeTeamStatistic: TeamStatistic{Team: Named{"Arsenal"}, Score: 2},
				AwayTeamStatistic: TeamStatistic{Team: Named{"Chelsea"}, Score: 1},
			},
		}, map[string]string{"eventLeagueName": "English Premier League"}
	},
})
