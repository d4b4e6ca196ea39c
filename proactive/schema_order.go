package proactive

import "time"

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

func (OrderStatus) enum() enumSet {
	return enumOf(OrderPreorderReceived, OrderReceived, OrderPreparing, OrderShipped, OrderOutForDelivery, OrderDelivered)
}

// OrderStatusUpdated is the payload of AMAZON.OrderStatus.Updated.
// Fields are required unless marked optional.
type OrderStatusUpdated struct {
	State OrderState `json:"state" schema:"required"`
	Order Order      `json:"order" schema:"required"`
}

// OrderState is the order's status and, optionally, when it got there and
// when it should arrive (DeliveryDetails).
type OrderState struct {
	Status OrderStatus `json:"status" schema:"required"`
	// EnterTimestamp is when the order reached Status, ISO 8601 (FormatTime
	// renders one). Jovo's table spells it enterTimeStamp: the validator
	// accepts both, and decoding into this struct reads both as JSON keys
	// match without regard to case.
	EnterTimestamp  string           `json:"enterTimestamp,omitempty" schema:"time,alias=enterTimeStamp"`
	DeliveryDetails *DeliveryDetails `json:"deliveryDetails,omitempty"`
}

// DeliveryDetails says when the order should arrive.
type DeliveryDetails struct {
	// ExpectedArrival is an ISO 8601 date-time.
	ExpectedArrival string `json:"expectedArrival,omitempty" schema:"time"`
}

// Order names the seller.
type Order struct {
	// Seller.Name is usually SellerNamePlaceholder.
	Seller Named `json:"seller" schema:"required,text=sellerName"`
}

// EventName returns SchemaOrderStatus.
func (OrderStatusUpdated) EventName() string { return SchemaOrderStatus }

var orderStatusSchema = declare[OrderStatusUpdated](SchemaInfo{
	EnUSOnly: true,
	Template: "Your <state.status?PREORDER_RECEIVED=preorder|order> from <order.seller.name> " +
		"<state.status?PREORDER_RECEIVED,ORDER_RECEIVED=has been received|ORDER_PREPARING=is being prepared|" +
		"ORDER_SHIPPED=has shipped|ORDER_OUT_FOR_DELIVERY=is out for delivery|ORDER_DELIVERED=has been delivered|is now <state.status>>." +
		"<state.status?ORDER_DELIVERED=|[ It should arrive on <state.deliveryDetails.expectedArrival>.]>",
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
})
