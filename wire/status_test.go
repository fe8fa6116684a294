package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestProcessingState(t *testing.T) {
	for _, tc := range []struct {
		jobs map[string]string
		want string
	}{
		{nil, JobCompleted},
		{map[string]string{"a": JobCompleted}, JobCompleted},
		{map[string]string{"a": JobCompleted, "b": JobPending}, JobPending},
		{map[string]string{"a": JobPending, "b": JobProcessing}, JobProcessing},
		{map[string]string{"a": JobFailed, "b": JobPending}, JobPending},
		{map[string]string{"a": JobFailed, "b": JobCompleted}, JobFailed},
		{map[string]string{"a": JobCanceled, "b": JobCompleted}, JobCanceled},
		{map[string]string{"a": JobCanceled, "b": JobFailed}, JobFailed},
	} {
		assert.Equal(t, tc.want, ProcessingState(tc.jobs), "%v", tc.jobs)
	}
}
