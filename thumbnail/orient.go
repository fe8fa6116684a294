package thumbnail

// orient turns a w x h plane, stored as the camera wrote it, into the
// plane as displayed under EXIF orientation o (1..8), and returns it with
// its displayed width and height. For orientations 5 to 8 the dimensions
// swap. The EXIF meanings, as where row 0 and column 0 of the stored image
// go when displayed:
//
//	1 row 0 top,    column 0 left    (as stored)
//	2 row 0 top,    column 0 right   (mirrored horizontally)
//	3 row 0 bottom, column 0 right   (rotated 180°)
//	4 row 0 bottom, column 0 left    (mirrored vertically)
//	5 row 0 left,   column 0 top     (transposed)
//	6 row 0 right,  column 0 top     (rotate 90° clockwise to display)
//	7 row 0 right,  column 0 bottom  (transversed)
//	8 row 0 left,   column 0 bottom  (rotate 90° counter-clockwise to display)
func orient[T any](p []T, w, h, o int) ([]T, int, int) {
	if o < 2 || o > 8 {
		return p, w, h
	}
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	out := make([]T, len(p))
	for dy := range dh {
		row := out[dy*dw : (dy+1)*dw]
		for dx := range row {
			sx, sy := sourceOf(dx, dy, w, h, o)
			row[dx] = p[sy*w+sx]
		}
	}
	return out, dw, dh
}

// sourceOf maps the displayed pixel (dx, dy) to the stored pixel of a
// w x h image under orientation o.
func sourceOf(dx, dy, w, h, o int) (sx, sy int) {
	switch o {
	case 2:
		return w - 1 - dx, dy
	case 3:
		return w - 1 - dx, h - 1 - dy
	case 4:
		return dx, h - 1 - dy
	case 5:
		return dy, dx
	case 6:
		return dy, h - 1 - dx
	case 7:
		return w - 1 - dy, h - 1 - dx
	case 8:
		return w - 1 - dy, dx
	}
	return dx, dy
}
