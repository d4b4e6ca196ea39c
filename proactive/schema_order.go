package proactive

import (
	"fmt"
	"time"
)

// SchemaOrderStatus is the event name of an order update. Alexa supports it
// in en-US only.
const SchemaOrderStatus = "AMAZON.OrderStatus.Updated"

// SellerNamePlaceholder is the conventional value of the seller's name,
// localized through the "sellerName" attribute.
const SellerNamePlaceholder = PlaceholderPrefix + "sellerName"

// OrderStatus is where an order is.
type OrderStatus string

// The order statuses, in the order an order goes through them.
const (
	OrderPreorderReceived OrderStatus = "PREORDER_RECEIVED"
	OrderReceived         OrderStatus = "ORDER_RECEIVED"
	OrderPreparing        OrderStatus = "ORDER_PREPARING"
	OrderShipped          OrderStatus = "ORDER_SHIPPED"
	OrderOutForDelivery   OrderStatus = "ORDER_OUT_FOR_DELIVERY"
	OrderDelivered        OrderStatus = "ORDER_DELIVERED"
)

var orderStatuses = enum[OrderStatus]{OrderPreorderReceived, OrderReceived, OrderPreparing, OrderShipped, OrderOutForDelivery, OrderDelivered}

// OrderStatusUpdated is the payload of AMAZON.OrderStatus.Updated.
// Fields are required unless marked optional.
type OrderStatusUpdated struct {
	State OrderState `json:"state"`
	Order Order      `json:"order"`
}

// OrderState is the order's status and, optionally, when it got there and
// when it should arrive (DeliveryDetails).
type OrderState struct {
	Status OrderStatus `json:"status"`
	// EnterTimestamp is when the order reached Status, ISO 8601 (FormatTime
	// renders one). Jovo's table spells it enterTimeStamp: the validator
	// accepts both, and decoding into this struct reads both as JSON keys
	// match without regard to case.
	EnterTimestamp  string           `json:"enterTimestamp,omitempty"`
	DeliveryDetails *DeliveryDetails `json:"deliveryDetails,omitempty"`
}

// DeliveryDetails says when the order should arrive.
type DeliveryDetails struct {
	// ExpectedArrival is an ISO 8601 date-time.
	ExpectedArrival string `json:"expectedArrival,omitempty"`
}

// Order names the seller.
type Order struct {
	// Seller.Name is usually SellerNamePlaceholder.
	Seller Named `json:"seller"`
}

// EventName returns SchemaOrderStatus.
func (OrderStatusUpdated) EventName() string { return SchemaOrderStatus }

// orderSentences say each status, with the seller at %s.
var orderSentences = map[OrderStatus]string{
	OrderPreorderReceived: "Your preorder from %s has been received.",
	OrderReceived:         "Your order from %s has been received.",
	OrderPreparing:        "Your order from %s is being prepared.",
	OrderShipped:          "Your order from %s has shipped.",
	OrderOutForDelivery:   "Your order from %s is out for delivery.",
	OrderDelivered:        "Your order from %s has been delivered.",
}

func (p OrderStatusUpdated) speak(text func(string) string) string {
	f, ok := orderSentences[p.State.Status]
	if !ok {
		f = "Your order from %s is now " + words(p.State.Status) + "."
	}
	s := fmt.Sprintf(f, text(p.Order.Seller.Name))
	if d := p.State.DeliveryDetails; d != nil && d.ExpectedArrival != "" && p.State.Status != OrderDelivered {
		s += " It should arrive on " + spokenTime(d.ExpectedArrival) + "."
	}
	return s
}

var orderStatusSchema = schemaDef{
	SchemaInfo: SchemaInfo{
		Name:        SchemaOrderStatus,
		EnUSOnly:    true,
		Template:    "Your order from <seller> has shipped (a sentence per status). It should arrive on <expectedArrival>.",
		Approximate: true,
		Example: func(now time.Time) (Schema, map[string]string) {
			return OrderStatusUpdated{
				State: OrderState{
					Status:          OrderShipped,
					EnterTimestamp:  FormatTime(now.Truncate(time.Minute)),
					DeliveryDetails: &DeliveryDetails{ExpectedArrival: FormatTime(ahead(now, 48*time.Hour))},
				},
				Order: Order{Seller: Named{SellerNamePlaceholder}},
			}, map[string]string{"sellerName": "Fabrikam"}
		},
	},
	check: func(p node) {
		s := p.object("state", true)
		s.enum("status", true, orderStatuses)
		s.time("enterTimestamp", false)
		s.time("enterTimeStamp", false)
		s.object("deliveryDetails", false).time("expectedArrival", false)
		p.object("order", true).object("seller", true).text("name", SellerNamePlaceholder, true)
	},
	decode: func() speaker { return new(OrderStatusUpdated) },
}
