package wire

// Job states: the values of Attachment.Processing and Status.Processing.
const (
	JobPending    = "pending"    // waiting to run (first time or retry)
	JobProcessing = "processing" // claimed by a worker whose lease runs
	JobCompleted  = "completed"  // done
	JobFailed     = "failed"     // gave up: a permanent error or no attempts left
	JobCanceled   = "canceled"   // not run: the attachment went away
)

// Status is where an attachment's processing stands.
type Status struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// Processing maps each processor to its job's state: JobPending,
	// JobProcessing, JobCompleted, JobFailed or JobCanceled.
	Processing map[string]string `json:"processing,omitempty"`
}

// Done reports whether every processor has finished (completed, failed or
// canceled).
func (st *Status) Done() bool {
	for _, s := range st.Processing {
		if s == JobPending || s == JobProcessing {
			return false
		}
	}
	return true
}

// ProcessingState sums up the jobs of an attachment (Attachment.Processing
// or Status.Processing) as one job state, for APIs that report a single
// one: JobProcessing while any job runs, else JobPending while any waits,
// else JobFailed when any failed, else JobCanceled when any was canceled,
// else JobCompleted (also when there are no jobs: nothing is left to do).
func ProcessingState(jobs map[string]string) string {
	has := func(state string) bool {
		for _, s := range jobs {
			if s == state {
				return true
			}
		}
		return false
	}
	for _, s := range []string{JobProcessing, JobPending, JobFailed, JobCanceled} {
		if has(s) {
			return s
		}
	}
	return JobCompleted
}
