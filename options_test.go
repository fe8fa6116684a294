package attachment_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// newWith opens a Service on memory stores with opts, closing it when the
// test ends.
func newWith(t *testing.T, opts *attachment.Options) (*attachment.Service, error) {
	t.Helper()
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), opts)
	if err == nil {
		t.Cleanup(func() { svc.Close() })
	}
	return svc, err
}

// numericOption is one numeric field of Options, reached through set and
// get, with what the rule of Options says of it.
type numericOption struct {
	field string // as error messages name it
	set   func(*attachment.Options, int64)
	get   func(attachment.Options) int64
	def   int64
	off   bool  // Off is allowed (and kept as -1)
	valid int64 // a value in range, kept as is
	least int64 // the smallest value in range
}

func numericOptions() []numericOption {
	d := func(v time.Duration) int64 { return int64(v) }
	return []numericOption{
		{"Options.MaxFileSize", func(o *attachment.Options, v int64) { o.MaxFileSize = v }, func(o attachment.Options) int64 { return o.MaxFileSize }, attachment.DefaultMaxFileSize, true, 1000, 1},
		{"Options.MaxFiles", func(o *attachment.Options, v int64) { o.MaxFiles = int(v) }, func(o attachment.Options) int64 { return int64(o.MaxFiles) }, attachment.DefaultMaxFiles, true, 3, 1},
		{"Options.MaxFilenameBytes", func(o *attachment.Options, v int64) { o.MaxFilenameBytes = int(v) }, func(o attachment.Options) int64 { return int64(o.MaxFilenameBytes) }, attachment.DefaultMaxFilenameBytes, false, 40, 1},
		{"Options.MaxLabels", func(o *attachment.Options, v int64) { o.MaxLabels = int(v) }, func(o attachment.Options) int64 { return int64(o.MaxLabels) }, attachment.DefaultMaxLabels, true, 4, 1},
		{"Options.MaxFieldBytes", func(o *attachment.Options, v int64) { o.MaxFieldBytes = int(v) }, func(o attachment.Options) int64 { return int64(o.MaxFieldBytes) }, attachment.DefaultMaxFieldBytes, false, 64, 1},
		{"Options.CommitTimeout", func(o *attachment.Options, v int64) { o.CommitTimeout = time.Duration(v) }, func(o attachment.Options) int64 { return d(o.CommitTimeout) }, d(attachment.DefaultCommitTimeout), false, d(time.Second), 1},
		{"Options.StoreTimeout", func(o *attachment.Options, v int64) { o.StoreTimeout = time.Duration(v) }, func(o attachment.Options) int64 { return d(o.StoreTimeout) }, d(attachment.DefaultStoreTimeout), true, d(time.Second), 1},
		{"Options.UploadExpiry", func(o *attachment.Options, v int64) { o.UploadExpiry = time.Duration(v) }, func(o attachment.Options) int64 { return d(o.UploadExpiry) }, d(attachment.DefaultUploadExpiry), false, d(time.Hour), 1},

		{"Options.Processing.Workers", func(o *attachment.Options, v int64) { o.Processing.Workers = int(v) }, func(o attachment.Options) int64 { return int64(o.Processing.Workers) }, attachment.DefaultWorkers, true, 1, 1},
		{"Options.Processing.JobLease", func(o *attachment.Options, v int64) { o.Processing.JobLease = time.Duration(v) }, func(o attachment.Options) int64 { return d(o.Processing.JobLease) }, d(attachment.DefaultJobLease), false, d(2 * time.Second), d(attachment.MinJobLease)},
		{"Options.Processing.MaxAttempts", func(o *attachment.Options, v int64) { o.Processing.MaxAttempts = int(v) }, func(o attachment.Options) int64 { return int64(o.Processing.MaxAttempts) }, attachment.DefaultMaxAttempts, false, 9, 1},
		{"Options.Processing.RetryDelay", func(o *attachment.Options, v int64) { o.Processing.RetryDelay = time.Duration(v) }, func(o attachment.Options) int64 { return d(o.Processing.RetryDelay) }, d(attachment.DefaultRetryDelay), false, d(time.Millisecond), 1},
		{"Options.Processing.PollInterval", func(o *attachment.Options, v int64) { o.Processing.PollInterval = time.Duration(v) }, func(o attachment.Options) int64 { return d(o.Processing.PollInterval) }, d(attachment.DefaultPollInterval), false, d(time.Millisecond), 1},
		{"Options.Processing.DrainTimeout", func(o *attachment.Options, v int64) { o.Processing.DrainTimeout = time.Duration(v) }, func(o attachment.Options) int64 { return d(o.Processing.DrainTimeout) }, d(attachment.DefaultDrainTimeout), false, d(time.Millisecond), 1},

		{"Options.Thumbnails.DefaultSize", func(o *attachment.Options, v int64) { o.Thumbnails.DefaultSize = int(v) }, func(o attachment.Options) int64 { return int64(o.Thumbnails.DefaultSize) }, attachment.DefaultThumbnailSize, false, 64, 1},
		{"Options.Thumbnails.MaxPixels", func(o *attachment.Options, v int64) { o.Thumbnails.MaxPixels = v }, func(o attachment.Options) int64 { return o.Thumbnails.MaxPixels }, attachment.DefaultMaxPixels, false, 1000, 1},
		{"Options.Thumbnails.Workers", func(o *attachment.Options, v int64) { o.Thumbnails.Workers = int(v) }, func(o attachment.Options) int64 { return int64(o.Thumbnails.Workers) }, attachment.DefaultThumbnailWorkers, false, 1, 1},

		{"Options.Maintenance.AbandonAfter", func(o *attachment.Options, v int64) { o.Maintenance.AbandonAfter = time.Duration(v) }, func(o attachment.Options) int64 { return d(o.Maintenance.AbandonAfter) }, 0, true, d(time.Hour), 1},
		{"Options.Maintenance.OrphanGrace", func(o *attachment.Options, v int64) { o.Maintenance.OrphanGrace = time.Duration(v) }, func(o attachment.Options) int64 { return d(o.Maintenance.OrphanGrace) }, d(attachment.DefaultOrphanGrace), false, d(time.Hour), 1},
		{"Options.Maintenance.Interval", func(o *attachment.Options, v int64) { o.Maintenance.Interval = time.Duration(v) }, func(o attachment.Options) int64 { return d(o.Maintenance.Interval) }, 0, true, d(time.Hour), 1},
	}
}

// Every numeric field of Options follows the one rule: zero is the
// default, Off is kept where the field allows it and an error naming the
// field elsewhere, and a value below the field's range is an error naming
// the field that wraps ErrInvalidOptions.
func TestOptionsRule(t *testing.T) {
	for _, f := range numericOptions() {
		t.Run(f.field, func(t *testing.T) {
			try := func(v int64) (attachment.Options, error) {
				var o attachment.Options
				f.set(&o, v)
				svc, err := newWith(t, &o)
				if err != nil {
					return attachment.Options{}, err
				}
				return svc.Options(), nil
			}
			got, err := try(0)
			require.NoError(t, err)
			assert.Equal(t, f.def, f.get(got), "zero is the default")

			got, err = try(f.valid)
			require.NoError(t, err)
			assert.Equal(t, f.valid, f.get(got), "a value in range is kept")

			got, err = try(attachment.Off)
			if f.off {
				require.NoError(t, err)
				assert.Equal(t, int64(attachment.Off), f.get(got), "Off is kept as -1")
			} else {
				require.ErrorIs(t, err, attachment.ErrInvalidOptions, "Off is not allowed")
				assert.ErrorContains(t, err, f.field+" is ")
			}

			for _, bad := range []int64{-2, -1 << 40, f.least - 1} {
				if bad == 0 || (bad == attachment.Off && f.off) {
					continue
				}
				_, err := try(bad)
				require.ErrorIs(t, err, attachment.ErrInvalidOptions, "%d", bad)
				assert.ErrorContains(t, err, f.field+" is ", "%d", bad)
			}
		})
	}
}

// The fields that are not numbers, and the checks across fields.
func TestOptionsValidation(t *testing.T) {
	cases := []struct {
		name  string
		opts  attachment.Options
		field string // "" when valid
	}{
		{"a type", attachment.Options{AllowedTypes: []string{"application/pdf"}}, ""},
		{"a prefix", attachment.Options{AllowedTypes: []string{"image/*"}}, ""},
		{"not a type", attachment.Options{AllowedTypes: []string{"image/", "not a type"}}, "Options.AllowedTypes[1]"},
		{"an empty type", attachment.Options{AllowedTypes: []string{""}}, "Options.AllowedTypes[0]"},
		{"a type with parameters", attachment.Options{AllowedTypes: []string{"text/plain; charset=utf-8"}}, "Options.AllowedTypes[0]"},
		{"sizes", attachment.Options{Thumbnails: attachment.ThumbnailOptions{Sizes: []int{32, 4096}, DefaultSize: 32}}, ""},
		{"size zero", attachment.Options{Thumbnails: attachment.ThumbnailOptions{Sizes: []int{0, 256}}}, "Options.Thumbnails.Sizes[0]"},
		{"size too large", attachment.Options{Thumbnails: attachment.ThumbnailOptions{Sizes: []int{256, 4097}}}, "Options.Thumbnails.Sizes[1]"},
		{"default size not allowed", attachment.Options{Thumbnails: attachment.ThumbnailOptions{Sizes: []int{64, 128}}}, "Options.Thumbnails.DefaultSize"},
		{"default size not in the defaults", attachment.Options{Thumbnails: attachment.ThumbnailOptions{DefaultSize: 100}}, "Options.Thumbnails.DefaultSize"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := newWith(t, &c.opts)
			if c.field == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, attachment.ErrInvalidOptions)
			assert.ErrorContains(t, err, c.field+" is ")
		})
	}

	// Every invalid field is named, not only the first.
	_, err := newWith(t, &attachment.Options{MaxFiles: -5, Processing: attachment.ProcessingOptions{JobLease: time.Millisecond}, Maintenance: attachment.MaintenanceOptions{OrphanGrace: attachment.Off}})
	require.ErrorIs(t, err, attachment.ErrInvalidOptions)
	for _, f := range []string{"Options.MaxFiles", "Options.Processing.JobLease", "Options.Maintenance.OrphanGrace"} {
		assert.ErrorContains(t, err, f+" is ")
	}

	// Open reports the same errors.
	_, err = attachment.Open(context.Background(), "mem://", "mem://", &attachment.Options{MaxLabels: -3})
	require.ErrorIs(t, err, attachment.ErrInvalidOptions)
	assert.ErrorContains(t, err, "Options.MaxLabels is -3")

	// A nil *Options is every default.
	svc, err := newWith(t, nil)
	require.NoError(t, err)
	o := svc.Options()
	assert.Equal(t, attachment.DefaultThumbnailSizes, o.Thumbnails.Sizes)
	assert.Empty(t, o.AllowedTypes)
}

// Off means what each field's documentation says: no limit on files per
// upload and labels per attachment. (MaxFileSize: Off is TestUploadMemory's.)
func TestOptionsOffLimits(t *testing.T) {
	svc, err := newWith(t, &attachment.Options{MaxFileSize: attachment.Off, MaxFiles: attachment.Off, MaxLabels: attachment.Off})
	require.NoError(t, err)
	var files []attachment.File
	for i := range attachment.DefaultMaxFiles + 1 {
		files = append(files, attachment.File{Name: fmt.Sprintf("f%d.txt", i), Content: strings.NewReader("x")})
	}
	labels := map[string]string{}
	for i := range attachment.DefaultMaxLabels + 1 {
		labels[fmt.Sprint("k", i)] = "v"
	}
	atts, err := svc.Upload(context.Background(), &attachment.UploadOptions{Labels: labels}, files...)
	require.NoError(t, err)
	assert.Len(t, atts, attachment.DefaultMaxFiles+1)
	assert.Len(t, atts[0].Labels, attachment.DefaultMaxLabels+1)
}

// Options returns a copy: changing it, slices included, changes nothing
// in the Service; nor does changing the Options given to New afterwards.
func TestOptionsAreCopied(t *testing.T) {
	p := attachment.ProcessorFunc("mine", nil, func(context.Context, *attachment.Task) error { return nil })
	in := &attachment.Options{
		AllowedTypes: []string{"image/"},
		Processing:   attachment.ProcessingOptions{Processors: []attachment.Processor{p}},
		Thumbnails:   attachment.ThumbnailOptions{Sizes: []int{64, 256}},
	}
	svc, err := newWith(t, in)
	require.NoError(t, err)
	want := svc.Options()

	out := svc.Options()
	out.AllowedTypes[0] = "text/"
	out.Thumbnails.Sizes[0] = 100
	out.Processing.Processors[0] = nil
	out.MaxFiles = 1
	in.AllowedTypes[0] = "text/"
	in.Thumbnails.Sizes[1] = 100
	in.Processing.Processors[0] = nil

	got := svc.Options()
	require.Len(t, got.Processing.Processors, 1)
	assert.Equal(t, "mine", got.Processing.Processors[0].Name())
	got.Processing.Processors, want.Processing.Processors = nil, nil // funcs never compare equal
	assert.Equal(t, want, got)
	assert.Equal(t, []string{"image/"}, svc.Options().AllowedTypes)
	assert.Equal(t, []int{64, 256}, svc.Options().Thumbnails.Sizes)
	_, err = svc.Upload(context.Background(), nil, attachment.File{Name: "a.txt", Content: strings.NewReader("text")})
	assert.ErrorIs(t, err, attachment.ErrUnsupportedType, "the Service still allows only images")

	// The defaults are copied too.
	def, err := newWith(t, nil)
	require.NoError(t, err)
	def.Options().Thumbnails.Sizes[0] = 1
	assert.Equal(t, []int{64, 128, 256, 512, 1024}, attachment.DefaultThumbnailSizes)
	assert.Equal(t, attachment.DefaultThumbnailSizes, def.Options().Thumbnails.Sizes)

	// And a Handler's.
	h := attachment.NewHandler(svc, &attachment.HandlerOptions{MaxParts: 3})
	ho := h.Options()
	ho.MaxParts = 1
	assert.Equal(t, 3, h.Options().MaxParts)
}

// The HTTP-only limits are HandlerOptions and follow the rule of Options:
// zero is the default, Off no limit, anything else negative invalid
// (Validate reports it, NewHandler panics with it).
func TestHandlerOptionsRule(t *testing.T) {
	svc, err := newWith(t, nil)
	require.NoError(t, err)
	h := attachment.NewHandler(svc, nil)
	assert.Equal(t, attachment.HandlerOptions{
		MaxRequestSize:    attachment.DefaultMaxRequestSize,
		MaxParts:          attachment.DefaultMaxParts,
		MaxRanges:         attachment.DefaultMaxRanges,
		MaxStatusWaits:    attachment.DefaultMaxStatusWaits,
		UploadIdleTimeout: attachment.DefaultUploadIdleTimeout,
	}, withoutHooks(h.Options()))
	off := attachment.HandlerOptions{MaxRequestSize: attachment.Off, MaxParts: attachment.Off, MaxRanges: attachment.Off,
		MaxStatusWaits: attachment.Off, UploadIdleTimeout: attachment.Off}
	require.NoError(t, off.Validate())
	assert.Equal(t, off, withoutHooks(attachment.NewHandler(svc, &off).Options()))
	require.NoError(t, (*attachment.HandlerOptions)(nil).Validate())

	for _, c := range []struct {
		field string
		opts  attachment.HandlerOptions
	}{
		{"HandlerOptions.MaxRequestSize", attachment.HandlerOptions{MaxRequestSize: -2}},
		{"HandlerOptions.MaxParts", attachment.HandlerOptions{MaxParts: -2}},
		{"HandlerOptions.MaxRanges", attachment.HandlerOptions{MaxRanges: -100}},
		{"HandlerOptions.MaxStatusWaits", attachment.HandlerOptions{MaxStatusWaits: -2}},
		{"HandlerOptions.UploadIdleTimeout", attachment.HandlerOptions{UploadIdleTimeout: -time.Second}},
	} {
		err := c.opts.Validate()
		require.ErrorIs(t, err, attachment.ErrInvalidOptions, c.field)
		assert.ErrorContains(t, err, c.field+" is ")
		assert.PanicsWithError(t, err.Error(), func() { attachment.NewHandler(svc, &c.opts) }, c.field)
	}

	// MaxRequestSize's default leaves room for the Service's largest file.
	for _, c := range []struct {
		maxFile, want int64
	}{
		{0, attachment.DefaultMaxRequestSize},
		{attachment.DefaultMaxRequestSize, attachment.DefaultMaxRequestSize + 1<<20},
		{attachment.Off, attachment.Off},
		{1<<63 - 1, attachment.Off},
	} {
		svc, err := newWith(t, &attachment.Options{MaxFileSize: c.maxFile})
		require.NoError(t, err)
		assert.Equal(t, c.want, attachment.NewHandler(svc, nil).Options().MaxRequestSize, "MaxFileSize %d", c.maxFile)
	}
}

func withoutHooks(o attachment.HandlerOptions) attachment.HandlerOptions {
	o.Access, o.Logger = nil, nil
	return o
}

// Off lifts each HTTP limit: a body declared larger than any default, more
// parts than DefaultMaxParts, more ranges than DefaultMaxRanges.
func TestHandlerOptionsOff(t *testing.T) {
	svc, err := newWith(t, &attachment.Options{MaxFileSize: attachment.Off, MaxFiles: attachment.Off})
	require.NoError(t, err)
	serve := func(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	limited := attachment.NewHandler(svc, &attachment.HandlerOptions{MaxRequestSize: 1000})
	unlimited := attachment.NewHandler(svc, &attachment.HandlerOptions{MaxRequestSize: attachment.Off, MaxParts: attachment.Off, MaxRanges: attachment.Off})

	declared := func() *http.Request {
		req := httptest.NewRequest("POST", "/?filename=a.bin", strings.NewReader("small"))
		req.ContentLength = 4 << 30 // only declared: the Handler is called directly
		return req
	}
	requireProblem(t, serve(limited, declared()), http.StatusRequestEntityTooLarge, "too_large")
	require.Equal(t, http.StatusCreated, serve(unlimited, declared()).Code)

	body, ct := tinyParts(attachment.DefaultMaxParts+1, true)
	req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	rec := serve(unlimited, req)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())

	a, err := svc.Upload(context.Background(), nil, attachment.File{Name: "r.bin", Content: bytes.NewReader(bytes.Repeat([]byte("r"), 1000))})
	require.NoError(t, err)
	req = httptest.NewRequest("GET", "/"+a[0].ID, nil)
	req.Header.Set("Range", rangeHeader(attachment.DefaultMaxRanges+1))
	rec = serve(unlimited, req)
	require.Equal(t, http.StatusPartialContent, rec.Code, rec.Body.String())
	assert.Len(t, byteranges(t, rec), attachment.DefaultMaxRanges+1)
}
