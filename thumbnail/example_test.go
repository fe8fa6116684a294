package thumbnail_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"

	"github.com/attachkit/attachment/thumbnail"
)

// A 400x300 PNG, as an upload might be.
func samplePNG() []byte {
	m := image.NewNRGBA(image.Rect(0, 0, 400, 300))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+3] = 200, 255
	}
	m.SetNRGBA(0, 0, color.NRGBA{}) // one transparent pixel
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		log.Fatal(err)
	}
	return b.Bytes()
}

func ExampleAnalyze() {
	info, err := thumbnail.Analyze(bytes.NewReader(samplePNG()), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %dx%d orientation %d\n", info.Format, info.Width, info.Height, info.Orientation)
	// Output: png 400x300 orientation 1
}

func ExampleMake() {
	var thumb bytes.Buffer
	contentType, w, h, err := thumbnail.Make(&thumb, bytes.NewReader(samplePNG()), 128, nil)
	switch {
	case errors.Is(err, thumbnail.ErrUnsupported), errors.Is(err, thumbnail.ErrTooLarge):
		fmt.Println("no thumbnail for this one")
		return
	case err != nil:
		log.Fatal(err) // reading the input failed: worth a retry
	}
	fmt.Println(contentType, w, h)
	// Output: image/png 128 96
}

func ExampleOptions() {
	// A tighter pixel limit than the default 50 megapixels.
	_, err := thumbnail.Analyze(bytes.NewReader(samplePNG()), &thumbnail.Options{MaxPixels: 100_000})
	fmt.Println(errors.Is(err, thumbnail.ErrTooLarge))
	// Output: true
}
