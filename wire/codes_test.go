package wire_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/wire"
)

// apiCodes are the problem codes of the API document, docs/api.md
// ("Errors"), each with the first status its table lists.
func apiCodes(t *testing.T) map[string]int {
	t.Helper()
	b, err := os.ReadFile("../docs/api.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(b), "\n## Errors\n")
	require.True(t, ok, "docs/api.md has no Errors section")
	section, _, _ = strings.Cut(section, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| ([0-9]{3})")
	codes := map[string]int{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		status, err := strconv.Atoi(m[2])
		require.NoError(t, err)
		require.NotContains(t, codes, m[1], "docs/api.md lists %q twice", m[1])
		codes[m[1]] = status
	}
	require.NotEmpty(t, codes, "no code table in docs/api.md's Errors section")
	return codes
}

// The table has each code of the API document once, with the status the
// document gives it, and every sentinel once.
func TestKindsMatchTheAPIDocument(t *testing.T) {
	doc := apiCodes(t)
	kinds := wire.Kinds()
	got := map[string]int{}
	for _, k := range kinds {
		require.NotContains(t, got, k.Code, "%q is in the table twice", k.Code)
		got[k.Code] = k.Status
	}
	assert.Equal(t, doc, got, "docs/api.md's codes and statuses, and wire's table")
	assert.Len(t, kinds, 18)
	for _, code := range []string{
		wire.CodeBadRequest, wire.CodeNotFound, wire.CodeTooLarge, wire.CodeTooManyFiles,
		wire.CodeUnsupportedType, wire.CodeChecksumMismatch, wire.CodeInvalidFilename,
		wire.CodeInvalidSize, wire.CodeReferenced, wire.CodeUnauthorized, wire.CodeForbidden,
		wire.CodeConflict, wire.CodeInternal, wire.CodeUnavailable, wire.CodeInsufficientStorage,
		wire.CodeOffsetMismatch, wire.CodeLocked, wire.CodeGone,
	} {
		assert.Contains(t, got, code, "the constant %q is not in the table", code)
	}
}

func TestKindsSentinels(t *testing.T) {
	kinds := wire.Kinds()
	seen := map[error]string{}
	for _, k := range kinds {
		if k.Code == wire.CodeInternal {
			assert.Nil(t, k.Err, "internal has no sentinel")
			assert.Equal(t, http.StatusInternalServerError, k.Status)
			continue
		}
		require.NotNil(t, k.Err, "%q has no sentinel", k.Code)
		require.NotContains(t, seen, k.Err, "%q and %q share a sentinel", k.Code, seen[k.Err])
		seen[k.Err] = k.Code
		switch k.Code {
		case wire.CodeUnavailable, wire.CodeInsufficientStorage:
			// The server's faults that a client may retry, or fix by
			// deleting, have a code of their own.
			assert.True(t, k.Status >= 500 && k.Status < 600, "%q: status %d", k.Code, k.Status)
		default:
			assert.True(t, k.Status >= 400 && k.Status < 500, "%q: status %d", k.Code, k.Status)
		}
		// No sentinel is another: errors.Is tells them apart.
		for _, o := range kinds {
			if o.Err != nil && o.Code != k.Code {
				assert.NotErrorIs(t, k.Err, o.Err, "%q is %q", k.Code, o.Code)
			}
		}
		assert.NotErrorIs(t, wire.ErrNoThumbnail, k.Err)
	}
	assert.Equal(t, wire.CodeInternal, kinds[len(kinds)-1].Code, "internal comes last")
	// The table in the right order and by the right names.
	want := map[string]error{
		wire.CodeBadRequest: wire.ErrInvalid, wire.CodeNotFound: wire.ErrNotFound,
		wire.CodeTooLarge: wire.ErrTooLarge, wire.CodeTooManyFiles: wire.ErrTooManyFiles,
		wire.CodeUnsupportedType: wire.ErrUnsupportedType, wire.CodeChecksumMismatch: wire.ErrChecksumMismatch,
		wire.CodeInvalidFilename: wire.ErrInvalidFilename, wire.CodeInvalidSize: wire.ErrInvalidSize,
		wire.CodeReferenced: wire.ErrReferenced, wire.CodeUnauthorized: wire.ErrUnauthorized,
		wire.CodeForbidden: wire.ErrForbidden, wire.CodeConflict: wire.ErrConflict,
		wire.CodeUnavailable: wire.ErrUnavailable, wire.CodeInsufficientStorage: wire.ErrInsufficientStorage,
		wire.CodeOffsetMismatch: wire.ErrOffsetMismatch, wire.CodeLocked: wire.ErrLocked, wire.CodeGone: wire.ErrGone,
	}
	for code, err := range want {
		assert.Equal(t, err, wire.ErrorOf(code), code)
	}
	assert.Len(t, seen, len(want))
}

// Kinds returns a copy: changing it changes no lookup.
func TestKindsIsACopy(t *testing.T) {
	k := wire.Kinds()
	k[0] = wire.Kind{Code: "x", Status: 999}
	assert.NotEqual(t, "x", wire.Kinds()[0].Code)
	_, ok := wire.KindOfCode("x")
	assert.False(t, ok)
}

func TestKindOfError(t *testing.T) {
	for _, k := range wire.Kinds() {
		if k.Err == nil {
			continue
		}
		for _, err := range []error{k.Err, fmt.Errorf("attachment x: get: %w", k.Err), errors.Join(errors.New("other"), k.Err)} {
			got, ok := wire.KindOfError(err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, k, got, "%v", err)
		}
	}
	// The general ErrInvalid comes after the specific sentinels.
	got, ok := wire.KindOfError(errors.Join(wire.ErrInvalid, wire.ErrInvalidFilename))
	require.True(t, ok)
	assert.Equal(t, wire.CodeInvalidFilename, got.Code)
	got, ok = wire.KindOfError(errors.Join(wire.ErrForbidden, wire.ErrNotFound))
	require.True(t, ok)
	assert.Equal(t, wire.CodeNotFound, got.Code, "a refused read of a missing attachment is a 404")

	for _, err := range []error{nil, errors.New("not found"), wire.ErrNoThumbnail} {
		_, ok := wire.KindOfError(err)
		assert.False(t, ok, "%v", err)
	}
}

func TestKindOfCode(t *testing.T) {
	for _, k := range wire.Kinds() {
		got, ok := wire.KindOfCode(k.Code)
		require.True(t, ok)
		assert.Equal(t, k, got)
		assert.Equal(t, k.Err, wire.ErrorOf(k.Code))
	}
	for _, code := range []string{"", "NOT_FOUND", "no_such_code"} {
		_, ok := wire.KindOfCode(code)
		assert.False(t, ok, code)
		assert.Nil(t, wire.ErrorOf(code), code)
	}
	assert.Nil(t, wire.ErrorOf(wire.CodeInternal))
}

// A status the API answers with one code gives it; one with several
// (400, 409) or none gives nothing.
func TestKindOfStatus(t *testing.T) {
	for status, code := range map[int]string{
		401: wire.CodeUnauthorized, 403: wire.CodeForbidden, 404: wire.CodeNotFound,
		413: wire.CodeTooLarge, 415: wire.CodeUnsupportedType, 500: wire.CodeInternal,
		503: wire.CodeUnavailable, 507: wire.CodeInsufficientStorage,
		410: wire.CodeGone, 423: wire.CodeLocked,
	} {
		k, ok := wire.KindOfStatus(status)
		require.True(t, ok, "%d", status)
		assert.Equal(t, code, k.Code, "%d", status)
	}
	for _, status := range []int{200, 400, 409, 416, 502} {
		k, ok := wire.KindOfStatus(status)
		assert.False(t, ok, "%d", status)
		assert.Equal(t, wire.Kind{}, k, "%d", status)
	}
}
