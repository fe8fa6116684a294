package storage

// SetWriteParts sets the part size and the parts in flight of writes
// through an ObjectWriter, and returns a func that restores them. Not
// safe while writes run.
func SetWriteParts(size int64, inFlight int) (restore func()) {
	oldSize, oldInFlight := writePartSize, writeInFlight
	writePartSize, writeInFlight = size, inFlight
	return func() { writePartSize, writeInFlight = oldSize, oldInFlight }
}

// WriteInFlight is how many parts a write uploads at once.
func WriteInFlight() int { return writeInFlight }
