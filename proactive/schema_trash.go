package proactive

import "time"

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

func (GarbageType) enum() enumSet {
	return enumOf(GarbageBottles, GarbageBulky, GarbageBurnable, GarbageCans, GarbageClothing,
		GarbageCompostable, GarbageCrushable, GarbageGardenWaste, GarbageGlass, GarbageHazardous, GarbageHomeAppliances,
		GarbageKitchenWaste, GarbageLandfill, GarbagePetBottles, GarbageRecyclablePlastics, GarbageWastePaper)
}

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

// enum says days with a capital, as names.
func (DayOfWeek) enum() enumSet {
	days := enumOf(Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday)
	days.proper = true
	return days
}

// TrashCollectionAlertActivated is the payload of
// AMAZON.TrashCollectionAlert.Activated. Every field is required.
type TrashCollectionAlertActivated struct {
	Alert TrashCollectionAlert `json:"alert" schema:"required"`
}

// TrashCollectionAlert is what is collected on which day.
type TrashCollectionAlert struct {
	// GarbageTypes lists at least one type. One source (Jovo) allows at
	// most five; Amazon does not confirm it, so more is only a warning.
	GarbageTypes        []GarbageType `json:"garbageTypes" schema:"required,most=5"`
	CollectionDayOfWeek DayOfWeek     `json:"collectionDayOfWeek" schema:"required"`
}

// EventName returns SchemaTrashCollection.
func (TrashCollectionAlertActivated) EventName() string { return SchemaTrashCollection }

var trashCollectionSchema = declare[TrashCollectionAlertActivated](SchemaInfo{
	Template: "The coming <alert.collectionDayOfWeek> is <alert.garbageTypes> garbage collection day.",
	Example: func(time.Time) (Schema, map[string]string) {
		return TrashCollectionAlertActivated{TrashCollectionAlert{
			GarbageTypes:        []GarbageType{GarbageCompostable, GarbageRecyclablePlastics},
			CollectionDayOfWeek: Tuesday,
		}}, nil
	},
})
