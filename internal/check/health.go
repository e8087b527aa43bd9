package check

import "fmt"

// Health is HAProxy's check health counter: 0..Rise+Fall-1, the server
// counting as up from Rise on. A server starts at Rise, up but one
// failure away from down, as HAProxy starts its servers; after that Fall
// failures in a row take it down and Rise successes bring it back.
type Health struct {
	Rise, Fall int
	H          int
}

// NewHealth returns the counter of a server that was never checked.
func NewHealth(rise, fall int) Health { return Health{Rise: rise, Fall: fall, H: rise} }

// Up reports whether the counter says up.
func (h *Health) Up() bool { return h.H >= h.Rise }

// Full reports whether the counter is at either end (no transition under
// way): fully up or fully down.
func (h *Health) Full() bool { return h.H == 0 || h.H == h.Rise+h.Fall-1 }

// Apply counts a result, as HAProxy's set_server_check_status: a failure
// below Rise drops straight to 0, a success reaching Rise jumps to the
// top. It reports whether the counter moved.
func (h *Health) Apply(passed bool) bool {
	if passed {
		if h.H >= h.Rise+h.Fall-1 {
			return false
		}
		h.H++
		if h.H >= h.Rise {
			h.H = h.Rise + h.Fall - 1
		}
		return true
	}
	if h.H == 0 {
		return false
	}
	h.H--
	if h.H < h.Rise {
		h.H = 0
	}
	return true
}

// Text is the "status: 2/3 UP" part of HAProxy's log-health-checks lines;
// upWord is "UP" or "DRAIN" (a server of weight 0).
func (h *Health) Text(upWord string) string {
	if h.Up() {
		return fmt.Sprintf("%d/%d %s", h.H-h.Rise+1, h.Fall, upWord)
	}
	return fmt.Sprintf("%d/%d DOWN", h.H, h.Rise)
}
