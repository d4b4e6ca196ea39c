package proactive

import (
	"fmt"
	"time"
)

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
	SportsEvent SportsEvent `json:"sportsEvent"`
}

// ScoreUpdate is who just scored and how much.
type ScoreUpdate struct {
	// ScoreEarned is the points just scored, 0 or more.
	ScoreEarned int `json:"scoreEarned"`
	// TeamName is the team that scored, said as is.
	TeamName string `json:"teamName"`
}

// SportsEvent is a game: its league and both teams' scores.
type SportsEvent struct {
	// EventLeague.Name is usually EventLeagueNamePlaceholder.
	EventLeague       Named         `json:"eventLeague"`
	HomeTeamStatistic TeamStatistic `json:"homeTeamStatistic"`
	AwayTeamStatistic TeamStatistic `json:"awayTeamStatistic"`
}

// TeamStatistic is one team's score.
type TeamStatistic struct {
	// Team.Name is said as is.
	Team Named `json:"team"`
	// Score is 0 or more.
	Score int `json:"score"`
}

// Named is the {"name": …} object many schemas use for a person, team,
// seller or provider.
type Named struct {
	Name string `json:"name"`
}

// EventName returns SchemaSportsEvent.
func (SportsEventUpdated) EventName() string { return SchemaSportsEvent }

func (p SportsEventUpdated) speak(text func(string) string) string {
	e := p.SportsEvent
	s := fmt.Sprintf("Update on %s: %s %d, %s %d.", text(e.EventLeague.Name),
		e.HomeTeamStatistic.Team.Name, e.HomeTeamStatistic.Score, e.AwayTeamStatistic.Team.Name, e.AwayTeamStatistic.Score)
	if u := p.Update; u != nil {
		s += fmt.Sprintf(" %s scored %d.", u.TeamName, u.ScoreEarned)
	}
	return s
}

var sportsEventSchema = schemaDef{
	SchemaInfo: SchemaInfo{
		Name:        SchemaSportsEvent,
		Template:    "Update on <eventLeague>: <homeTeam> <score>, <awayTeam> <score>. <teamName> scored <scoreEarned>.",
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
	},
	check: func(p node) {
		u := p.object("update", false)
		u.count("scoreEarned", true)
		u.str("teamName", true)
		e := p.object("sportsEvent", true)
		e.object("eventLeague", true).text("name", EventLeagueNamePlaceholder, true)
		for _, side := range []string{"homeTeamStatistic", "awayTeamStatistic"} {
			t := e.object(side, true)
			t.object("team", true).str("name", true)
			t.count("score", true)
		}
	},
	decode: func() speaker { return new(SportsEventUpdated) },
}
