package thumbnail

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// parallel calls fn over [0, n) in chunks spread over GOMAXPROCS
// goroutines, and returns when all are done. A panic in fn is re-raised in
// the caller's goroutine, where it can be recovered.
func parallel(n int, fn func(lo, hi int)) {
	parallelWith(n, func() struct{} { return struct{}{} }, func(_ struct{}, lo, hi int) { fn(lo, hi) })
}

// parallelWith is parallel with scratch space: each goroutine makes its
// own with scratch, once, and hands it to every call of fn it makes.
func parallelWith[S any](n int, scratch func() S, fn func(s S, lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		if n > 0 {
			fn(scratch(), 0, n)
		}
		return
	}
	chunk := max(1, n/(workers*4))
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		once  sync.Once
		fault any
	)
	for range workers {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					once.Do(func() { fault = p })
				}
			}()
			var (
				s    S
				made bool
			)
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				if !made {
					s, made = scratch(), true
				}
				fn(s, lo, min(lo+chunk, n))
			}
		})
	}
	wg.Wait()
	if fault != nil {
		panic(fmt.Sprintf("thumbnail: worker panic: %v", fault))
	}
}
