package domain

// Modes, as Stripe's livemode: every API key has one, and so does what it makes (DESIGN.md
// "Modes, merchants and keys"). A sandbox key's money moves only through the sandbox processor.
const (
	ModeSandbox = "sandbox"
	ModeLive    = "live"
)

// IsSandbox reports whether mode is the sandbox's. Anything but "live" is: a mode that was never
// set never moves real money.
func IsSandbox(mode string) bool { return mode != ModeLive }

// ModeOf is the mode named by a sandbox flag (a purchase's, a session's).
func ModeOf(sandbox bool) string {
	if sandbox {
		return ModeSandbox
	}
	return ModeLive
}
