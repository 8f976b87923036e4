package v1alpha1

// orderMoves is the state machine the CRD's CEL rule on spec.state enforces;
// tools use it to say what an order can move to before the API server refuses.
var orderMoves = map[OrderState][]OrderState{
	OrderPending:  {OrderAccepted, OrderRejected, OrderCancelled},
	OrderAccepted: {OrderShipped, OrderCancelled},
	OrderShipped:  {OrderDelivered},
}

// Moves returns the states an order in state s may move to, none for a final state.
func (s OrderState) Moves() []OrderState {
	if s == "" {
		s = OrderPending
	}
	return append([]OrderState(nil), orderMoves[s]...)
}

// CanMoveTo tells whether the API server accepts a move from s to next.
func (s OrderState) CanMoveTo(next OrderState) bool {
	for _, m := range s.Moves() {
		if m == next {
			return true
		}
	}
	return false
}
