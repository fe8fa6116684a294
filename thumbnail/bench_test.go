package thumbnail

import (
	"bytes"
	"image/jpeg"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"
)

// bigPhoto is the 12-megapixel photo-like benchmark image, made once per
// test binary: JPEG quality 90 and PNG.
var bigPhoto = sync.OnceValues(func() (jpg, pngData []byte) {
	img := photo(4000, 3000, 1)
	var j, p bytes.Buffer
	if err := jpeg.Encode(&j, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	if err := encodePNGTo(&p, img); err != nil {
		panic(err)
	}
	return j.Bytes(), p.Bytes()
})

// BenchmarkDecodeOnlyJPEG12MP is the anchor: image/jpeg decoding the
// 12-megapixel JPEG, nothing else.
func BenchmarkDecodeOnlyJPEG12MP(b *testing.B) {
	data, _ := bigPhoto()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMakeJPEG12MP is the whole pipeline on the 12-megapixel JPEG:
// decode, orient, scale to 256, encode.
func BenchmarkMakeJPEG12MP(b *testing.B) {
	data, _ := bigPhoto()
	benchMake(b, data)
}

// BenchmarkMakePNG12MP is the whole pipeline on the same image as PNG.
func BenchmarkMakePNG12MP(b *testing.B) {
	_, data := bigPhoto()
	benchMake(b, data)
}

// BenchmarkRatioJPEG12MP alternates the two above, decode-only then the
// whole pipeline, each after a GC, and reports the ratio of their total
// times as make/decode: on a busy machine, a ratio taken from runs far
// apart in time measures the load as much as the code.
func BenchmarkRatioJPEG12MP(b *testing.B) {
	data, _ := bigPhoto()
	var dec, mk time.Duration
	for b.Loop() {
		runtime.GC()
		t0 := time.Now()
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		dec += time.Since(t0)
		runtime.GC()
		t0 = time.Now()
		if _, _, _, err := Make(io.Discard, bytes.NewReader(data), 256, nil); err != nil {
			b.Fatal(err)
		}
		mk += time.Since(t0)
	}
	b.ReportMetric(float64(mk)/float64(dec), "make/decode")
	b.ReportMetric(float64(dec.Milliseconds())/float64(b.N), "decode-ms/op")
	b.ReportMetric(float64(mk.Milliseconds())/float64(b.N), "make-ms/op")
}

func benchMake(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, _, err := Make(io.Discard, bytes.NewReader(data), 256, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScaleYCbCr12MP is the scaling step alone (no decode, no
// encode) on the decoded 12-megapixel JPEG.
func BenchmarkScaleYCbCr12MP(b *testing.B) {
	data, _ := bigPhoto()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		scale(img, 1, 256, false)
	}
}
