package attachment

import "time"

// SetSignerClock replaces the clock of s, for tests of expiry. Call it
// before s is in use.
func SetSignerClock(s *Signer, now func() time.Time) { s.now = now }
