// Package mpart is a fast, streaming reader of multipart/form-data bodies
// (RFC 7578, RFC 2046 section 5.1), a drop-in for the parts of
// mime/multipart that an upload handler needs.
//
// # Why it exists
//
// mime/multipart parses through a 4 KiB bufio.Reader and hands out at most
// that much per Read, so an upload through it runs at about half the speed
// of the same bytes sent as a raw request body. This package reads through a
// large buffer (64 KiB by default) and returns from each Read everything in
// the buffer that cannot be the start of a delimiter; a large Read (8 KiB
// or more) is filled from the source directly, without passing through
// the buffer. [Part.WriteTo] hands the buffer's slices straight to the
// destination. The delimiter "\r\n--boundary" is found with bytes.Index's
// answers but faster on long inputs: one byte in every len(delimiter) is
// looked at (see finder in index.go). Streaming a part allocates nothing,
// and memory does not grow with the size of a part.
//
// # How it is proven
//
// The package must answer exactly what mime/multipart answers: the same
// parts, headers, form names, file names (without filepath.Base, see
// [Part.FileName]) and body bytes, and an error wherever mime/multipart
// gives one. FuzzDifferential in the tests feeds arbitrary bodies and
// boundaries, cut into arbitrary read sizes, to both readers and compares
// everything they return. The body scanner follows mime/multipart's
// scanUntilBoundary decision for decision, the boundary lines are read with
// the same 4 KiB line limit that its bufio.Reader imposes, and part headers
// are parsed by net/textproto itself, so the leniencies match too: a
// preamble, "\n" line endings chosen by the first boundary line, spaces and
// tabs after a boundary, an epilogue, quoted-printable bodies (decoded,
// with the Content-Transfer-Encoding header removed), empty parts and parts
// without headers.
//
// # Differences from mime/multipart
//
// The differences are deliberate, few, and listed here and in the fuzz
// test's comparison:
//
//   - Part headers are bounded by [Options]: MaxHeaderBytes (16 KiB) and
//     MaxHeaders (64) by default, where mime/multipart allows about 10 MiB
//     and 10000 headers. Over the limit NextPart returns an error wrapping
//     [ErrHeaderTooLarge].
//   - [Part.FileName] returns the raw filename parameter; mime/multipart
//     passes it through filepath.Base. The caller cleans names itself.
//   - When NextPart skips the unread rest of a quoted-printable part, it
//     skips the raw bytes up to the next delimiter. mime/multipart drains
//     such a part through its decoder, so after a decoding error it stops
//     where the decoder stopped, a point that depends on how its buffers
//     happened to fill, and usually fails the next NextPart.
//   - Errors are sticky: after NextPart returns an error or io.EOF it
//     returns the same again, where mime/multipart would go on parsing.
//   - Input that ends inside a part's header block, or right after a
//     boundary line, is an error wrapping io.ErrUnexpectedEOF.
//     mime/multipart returns io.EOF there, as if the body had been
//     complete, unless a header line read so far was malformed: it would
//     take a truncated upload for a whole one.
//   - Any other body that ends before its closing boundary is an error
//     in both, wrapping io.ErrUnexpectedEOF here (from NextPart too,
//     where mime/multipart wraps io.EOF). Error texts differ.
package mpart
