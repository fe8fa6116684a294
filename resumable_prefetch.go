package attachment

import (
	"context"
	"io"
	"sync"

	"github.com/attachkit/attachment/internal/iox"
)

// prefetchSize is how much of an append's body is read while its lease
// is claimed: one chunk of the storage pipe, about what a fast client
// sends in the time the claim takes.
const prefetchSize = 256 << 10

// prefetchPool holds prefetch buffers.
var prefetchPool = sync.Pool{New: func() any {
	b := make([]byte, prefetchSize)
	return &b
}}

// prefetched is the start of an append's body, read ahead while the
// lease was claimed, so that the client's bytes keep coming during the
// claim. As an io.Reader it gives those bytes again, then the body's end
// or failure as it was met, then the rest of the body, until ctx ends:
// what was read ahead is kept even when ctx ended meanwhile (an append
// keeps what it read), and no more is read after.
type prefetched struct {
	ctx  context.Context
	buf  *[]byte // from prefetchPool, until release
	head []byte
	err  error // what the body returned after head: io.EOF, a failure, or nil (read on)
	body io.Reader
}

// prefetch reads the first bytes of body (up to prefetchSize, fewer when
// it ends or fails); ctx bounds what is read after them.
func prefetch(ctx context.Context, body io.Reader) *prefetched {
	p := &prefetched{ctx: ctx, buf: prefetchPool.Get().(*[]byte), body: body}
	n, last, err := iox.Fill(body, *p.buf)
	p.head, p.err = (*p.buf)[:n], err
	if last {
		p.err = io.EOF
	}
	return p
}

func (p *prefetched) Read(b []byte) (int, error) {
	if len(p.head) > 0 {
		n := copy(b, p.head)
		p.head = p.head[n:]
		return n, nil
	}
	if p.err != nil {
		return 0, p.err
	}
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	return p.body.Read(b)
}

// release gives the buffer back; the reader must not be read after it.
func (p *prefetched) release() {
	if p.buf != nil {
		p.head = nil
		prefetchPool.Put(p.buf)
		p.buf = nil
	}
}
