package proactive

import (
	"fmt"
	"strings"
	"time"
)

// SchemaTrashCollection is the event name of a garbage collection reminder.
const SchemaTrashCollection = "AMAZON.TrashCollectionAlert.Activated"

// GarbageType is a kind of garbage collected.
type GarbageType string

// The garbage types.
const (
	GarbageBottles            GarbageType = "BOTTLES"
	GarbageBulky              GarbageType = "BULKY"
	GarbageBurnable           GarbageType = "BURNABLE"
	GarbageCans               GarbageType = "CANS"
	GarbageClothing           GarbageType = "CLOTHING"
	GarbageCompostable        GarbageType = "COMPOSTABLE"
	GarbageCrushable          GarbageType = "CRUSHABLE"
	GarbageGardenWaste        GarbageType = "GARDEN_WASTE"
	GarbageGlass              GarbageType = "GLASS"
	GarbageHazardous          GarbageType = "HAZARDOUS"
	GarbageHomeAppliances     GarbageType = "HOME_APPLIANCES"
	GarbageKitchenWaste       GarbageType = "KITCHEN_WASTE"
	GarbageLandfill           GarbageType = "LANDFILL"
	GarbagePetBottles         GarbageType = "PET_BOTTLES"
	GarbageRecyclablePlastics GarbageType = "RECYCLABLE_PLASTICS"
	GarbageWastePaper         GarbageType = "WASTE_PAPER"
)

// DayOfWeek is the collection day.
type DayOfWeek string

// The days of the week.
const (
	Monday    DayOfWeek = "MONDAY"
	Tuesday   DayOfWeek = "TUESDAY"
	Wednesday DayOfWeek = "WEDNESDAY"
	Thursday  DayOfWeek = "THURSDAY"
	Friday    DayOfWeek = "FRIDAY"
	Saturday  DayOfWeek = "SATURDAY"
	Sunday    DayOfWeek = "SUNDAY"
)

var (
	garbageTypes = enum[GarbageType]{GarbageBottles, GarbageBulky, GarbageBurnable, GarbageCans, GarbageClothing,
		GarbageCompostable, GarbageCrushable, GarbageGardenWaste, GarbageGlass, GarbageHazardous, GarbageHomeAppliances,
		GarbageKitchenWaste, GarbageLandfill, GarbagePetBottles, GarbageRecyclablePlastics, GarbageWastePaper}
	daysOfWeek = enum[DayOfWeek]{Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday}
)

// MaxGarbageTypes is the most garbage types one source (Jovo) allows in an
// alert. Amazon does not confirm it, so more is only a warning.
const MaxGarbageTypes = 5

// TrashCollectionAlertActivated is the payload of
// AMAZON.TrashCollectionAlert.Activated. Every field is required.
type TrashCollectionAlertActivated struct {
	Alert TrashCollectionAlert `json:"alert"`
}

// TrashCollectionAlert is what is collected on which day.
type TrashCollectionAlert struct {
	// GarbageTypes lists at least one type.
	GarbageTypes        []GarbageType `json:"garbageTypes"`
	CollectionDayOfWeek DayOfWeek     `json:"collectionDayOfWeek"`
}

// EventName returns SchemaTrashCollection.
func (TrashCollectionAlertActivated) EventName() string { return SchemaTrashCollection }

func (p TrashCollectionAlertActivated) speak(func(string) string) string {
	kinds := make([]string, len(p.Alert.GarbageTypes))
	for i, g := range p.Alert.GarbageTypes {
		kinds[i] = words(g)
	}
	day := words(p.Alert.CollectionDayOfWeek)
	if day != "" {
		day = strings.ToUpper(day[:1]) + day[1:]
	}
	return fmt.Sprintf("The coming %s is %s garbage collection day.", day, and(kinds))
}

var trashCollectionSchema = schemaDef{
	SchemaInfo: SchemaInfo{
		Name:     SchemaTrashCollection,
		Template: "The coming <collectionDayOfWeek> is <garbageTypes> garbage collection day.",
		Example: func(time.Time) (Schema, map[string]string) {
			return TrashCollectionAlertActivated{TrashCollectionAlert{
				GarbageTypes:        []GarbageType{GarbageCompostable, GarbageRecyclablePlastics},
				CollectionDayOfWeek: Tuesday,
			}}, nil
		},
	},
	check: func(p node) {
		a := p.object("alert", true)
		if n := a.enumList("garbageTypes", true, garbageTypes); n > MaxGarbageTypes {
			a.f.warnings = append(a.f.warnings, fmt.Sprintf("%s: %d garbage types; one source allows at most %d", a.at("garbageTypes"), n, MaxGarbageTypes))
		}
		a.enum("collectionDayOfWeek", true, daysOfWeek)
	},
	decode: func() speaker { return new(TrashCollectionAlertActivated) },
}
