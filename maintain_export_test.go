package attachment

import (
	"time"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/storage"
)

// NewWithClock is New with a clock of the test's, for tests of ages
// (abandoned uploads, orphans).
func NewWithClock(content *storage.Store, meta metadata.Store, opts *Options, now func() time.Time) (*Service, error) {
	return newService(content, meta, opts, now)
}
