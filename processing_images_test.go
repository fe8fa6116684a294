package attachment_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// phoneJPEG is a w x h JPEG whose EXIF says orientation o, the way phone
// cameras store portrait photos: pixels landscape, displayed rotated.
func phoneJPEG(t *testing.T, w, h int, o uint16) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 90, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}))
	// APP1 "Exif\0\0" + a little-endian TIFF with one IFD entry: 0x0112
	// Orientation, SHORT, count 1, value o.
	tiff := []byte{'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0}
	entry := make([]byte, 12)
	binary.LittleEndian.PutUint16(entry[0:], 0x0112)
	binary.LittleEndian.PutUint16(entry[2:], 3)
	binary.LittleEndian.PutUint32(entry[4:], 1)
	binary.LittleEndian.PutUint16(entry[8:], o)
	tiff = append(append(tiff, entry...), 0, 0, 0, 0)
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)
	b := buf.Bytes()
	return append(append(append([]byte{}, b[:2]...), seg...), b[2:]...)
}

func TestRotatedPhoneJPEG(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	a := e.mustUpload("IMG_0001.JPG", phoneJPEG(t, 400, 300, 6))
	require.Equal(t, "image/jpeg", a.ContentType)
	e.waitDone(a.ID)
	got := decodeRecord(t, e.do("GET", a.URL+"/metadata", nil).Body.Bytes())
	assert.Equal(t, [2]int{300, 400}, [2]int{got.Width, got.Height}, "dimensions as displayed")
	rec := e.do("GET", a.ThumbnailURL+"?size=128", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	cfg, _, err := image.DecodeConfig(bytes.NewReader(rec.Body.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, [2]int{96, 128}, [2]int{cfg.Width, cfg.Height}, "the thumbnail is upright")
}

func TestTransparentPNGAndAnimatedGIF(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	img := image.NewNRGBA(image.Rect(0, 0, 300, 300))
	img.Set(10, 10, color.NRGBA{255, 0, 0, 128}) // one translucent pixel; the rest fully transparent
	var pbuf bytes.Buffer
	require.NoError(t, png.Encode(&pbuf, img))
	p := e.mustUpload("clear.png", pbuf.Bytes())
	rec := e.do("GET", p.ThumbnailURL+"?size=64", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "image/png", rec.Header().Get("Content-Type"), "transparency keeps PNG")

	anim := &gif.GIF{}
	pal := color.Palette{color.Black, color.White}
	for i := 0; i < 3; i++ {
		fr := image.NewPaletted(image.Rect(0, 0, 80, 40), pal)
		anim.Image = append(anim.Image, fr)
		anim.Delay = append(anim.Delay, 10)
	}
	var gbuf bytes.Buffer
	require.NoError(t, gif.EncodeAll(&gbuf, anim))
	g := e.mustUpload("anim.gif", gbuf.Bytes())
	e.waitDone(g.ID)
	got := decodeRecord(t, e.do("GET", g.URL+"/metadata", nil).Body.Bytes())
	assert.Equal(t, [2]int{80, 40}, [2]int{got.Width, got.Height})
	rec = e.do("GET", g.ThumbnailURL+"?size=64", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	cfg, _, err := image.DecodeConfig(bytes.NewReader(rec.Body.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, [2]int{64, 32}, [2]int{cfg.Width, cfg.Height})
}

// Concurrent requests for one thumbnail share one generation: the
// processor-free service makes it on demand, and every request gets the
// same bytes.
func TestThumbnailConcurrentRequests(t *testing.T) {
	e := newEnv(t, backends()[0], &envOpts{svc: &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}}})
	a := e.mustUpload("big.png", pngBytes(t, 1500, 1000))
	const n = 16
	var wg sync.WaitGroup
	bodies := make([][]byte, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := e.do("GET", a.ThumbnailURL, nil)
			if rec.Code == http.StatusOK {
				bodies[i] = rec.Body.Bytes()
			}
		}()
	}
	wg.Wait()
	for i := range bodies {
		require.NotEmpty(t, bodies[i], "request %d", i)
		assert.Equal(t, bodies[0], bodies[i])
	}
	var thumbs int
	for _, k := range e.keys() {
		if k != "content/"+a.ID {
			thumbs++
		}
	}
	assert.Equal(t, 1, thumbs, "one thumbnail kept")
}

// A job whose attachment is deleted before it runs does not run.
func TestDeletedAttachmentCancelsItsJobs(t *testing.T) {
	var runs atomic.Int32
	gate := make(chan struct{})
	first := attachment.ProcessorFunc("first", nil, func(ctx context.Context, t *attachment.Task) error {
		<-gate
		return nil
	})
	counted := attachment.ProcessorFunc("second", nil, func(ctx context.Context, t *attachment.Task) error {
		runs.Add(1)
		return nil
	})
	e := newEnv(t, backends()[0], &envOpts{svc: &attachment.Options{
		Processing: attachment.ProcessingOptions{Processors: []attachment.Processor{first, counted}, NoImageProcessing: true, Workers: 1},
	}})
	// With one worker blocked on "first" of a, the jobs of b wait.
	a := e.mustUpload("a.txt", []byte("a"))
	time.Sleep(100 * time.Millisecond)
	b := e.mustUpload("b.txt", []byte("b"))
	require.Equal(t, http.StatusOK, e.do("DELETE", b.URL, nil).Code)
	close(gate)
	e.waitDone(a.ID)
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, int32(1), runs.Load(), "only a's second job ran")
}
