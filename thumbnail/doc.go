// Package thumbnail is the library's image work, with no HTTP and no
// storage: it reads image headers and makes thumbnails.
//
// [Analyze] reads an image's header (and EXIF orientation) without decoding
// any pixel and reports its format and displayed size. [Make] decodes an
// image, applies its EXIF orientation, scales it to fit a square box
// (aspect kept, never enlarged) and encodes it: JPEG for opaque images, PNG
// for images with any transparency.
//
// Formats: JPEG, PNG, GIF (the first frame only, whatever follows it),
// WebP, BMP and TIFF. The format is sniffed from the first bytes, and each
// decoder is called directly: nothing depends on image.RegisterFormat.
//
// # Limits
//
// Both functions refuse an image whose header claims more than
// Options.MaxPixels pixels with [ErrTooLarge] before decoding anything, so
// a tiny file that claims 60000x60000 costs next to nothing. Anything that
// is not a supported image, or is truncated or corrupt, is
// [ErrUnsupported]; a decoder panic is recovered and reported as
// ErrUnsupported too. An error from the reader itself is returned as it is
// (wrapped), so callers can retry it.
//
// # Scaling
//
// Scaling works on the decoder's own pixel layout: for JPEG and lossy WebP
// the Y, Cb and Cr planes at their own (subsampled) resolutions, never a
// full-size RGBA copy. Each plane is first reduced by an integer factor
// with a tent filter (an area average convolved with itself, computed
// exactly in integers, eight bytes at a time, over GOMAXPROCS goroutines)
// to two to four times the output size; a Lanczos3 filter, widened by the
// remaining ratio, then makes the output. The tent does the bulk of a
// large reduction cheaply and, unlike a plain area average, lets almost no
// detail finer than its grid fold back as moiré; the Lanczos step keeps
// the result as sharp as a full-resolution Lanczos3 (disintegration/
// imaging's Lanczos). Colour conversion happens only at the output size,
// and not at all for YCbCr images: their thumbnails are encoded as YCbCr,
// with chroma made directly at the half resolution the JPEG encoder keeps.
// Alpha is premultiplied while scaling; lossy WebP's video-range YCbCr
// (which golang.org/x/image/webp hands over as is) is expanded to full
// range.
package thumbnail
