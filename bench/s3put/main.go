// Command s3put is the anchor of bench/compare.sh's S3 rows: it PUTs
// objects straight to the S3 server that an s3:// URL names (as
// gocloud.dev/blob opens it, credentials from the usual AWS environment),
// with no server of ours in between, and prints one JSON line with the
// fields of ../shared/bench's loadgen that the report reads.
//
// Each PUT goes to a key of its own, at a URL presigned for it
// (UNSIGNED-PAYLOAD: the client hashes nothing), with a body of -size
// bytes cut from one random block; -c PUTs run at once on keep-alive
// connections, until -n PUTs are done or -duration has passed.
//
//	go run ./bench/s3put -bucket "$ATTACHMENT_TEST_S3_URL" -size 4KiB -c 16 -duration 10s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/s3blob"
)

// result holds the loadgen fields that bench/compare.sh's report reads.
type result struct {
	Label     string           `json:"label,omitempty"`
	Mode      string           `json:"mode"`
	URL       string           `json:"url"`
	Size      int64            `json:"size"`
	C         int              `json:"c"`
	N         int64            `json:"n_target"`
	DurationS float64          `json:"duration_target_s"`
	Ops       int64            `json:"ops"`
	OpsFailed int64            `json:"ops_failed"`
	Requests  int64            `json:"requests"`
	Status    map[string]int64 `json:"status"`
	Errors    map[string]int64 `json:"errors"`
	Bytes     int64            `json:"bytes"`
	Seconds   float64          `json:"seconds"`
	MBps      float64          `json:"mb_s"`
	MiBps     float64          `json:"mib_s"`
	OpsPerS   float64          `json:"ops_s"`
	ReqPerS   float64          `json:"req_s"`
	P50       float64          `json:"p50_ms"`
	P90       float64          `json:"p90_ms"`
	P99       float64          `json:"p99_ms"`
	Max       float64          `json:"max_ms"`
	Seed      uint64           `json:"seed"`
}

func main() {
	bucketURL := flag.String("bucket", "", "the bucket's s3:// URL (gocloud.dev/blob's form)")
	prefix := flag.String("prefix", "anchor/", "key prefix; PUT i goes to PREFIXi")
	sizeFlag := flag.String("size", "4KiB", "bytes per PUT (KiB, MiB or GiB suffix, or plain bytes)")
	n := flag.Int64("n", 0, "PUTs to make (0: until -duration)")
	c := flag.Int("c", 1, "PUTs at once")
	dur := flag.Duration("duration", 0, "no new PUT after this long (0: until -n)")
	label := flag.String("label", "", "label copied into the output")
	seed := flag.Uint64("seed", 1, "seed of the body's random block")
	flag.Parse()
	size, err := parseSize(*sizeFlag)
	if err != nil || *bucketURL == "" || *c < 1 || (*n <= 0 && *dur <= 0) {
		log.Fatalf("s3put: need -bucket, a valid -size, -c >= 1 and -n or -duration (%v)", err)
	}
	ctx := context.Background()
	b, err := blob.OpenBucket(ctx, *bucketURL)
	if err != nil {
		log.Fatalf("s3put: %v", err)
	}
	defer b.Close()
	var client *s3.Client
	if !b.As(&client) {
		log.Fatal("s3put: not an S3 bucket")
	}
	u, err := url.Parse(*bucketURL)
	if err != nil {
		log.Fatalf("s3put: %v", err)
	}
	bucket := u.Host // s3://NAME?...
	presign := s3.NewPresignClient(client)

	// One random block, repeated: the body costs the client nothing.
	block := make([]byte, min(size, 1<<20))
	r := rand.New(rand.NewPCG(*seed, *seed^0x9e3779b97f4a7c15))
	for i := range block {
		block[i] = byte(r.Uint32())
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *c, WriteBufferSize: 256 << 10}}

	res := result{Label: *label, Mode: "s3put", URL: strings.SplitN(*bucketURL, "?", 2)[0], Size: size, C: *c, N: *n,
		DurationS: dur.Seconds(), Status: map[string]int64{}, Errors: map[string]int64{}, Seed: *seed}
	var next, ok atomic.Int64
	var mu sync.Mutex
	var lat []float64
	start := time.Now()
	var wg sync.WaitGroup
	for range *c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if (*n > 0 && i >= *n) || (*dur > 0 && time.Since(start) >= *dur) {
					return
				}
				key := *prefix + strconv.FormatInt(i, 10)
				t0 := time.Now()
				status, err := put(ctx, hc, presign, bucket, key, block, size)
				ms := float64(time.Since(t0).Microseconds()) / 1000
				mu.Lock()
				res.Requests++
				switch {
				case err != nil:
					res.Errors[err.Error()]++
				default:
					res.Status[strconv.Itoa(status)]++
				}
				if err == nil && status == http.StatusOK {
					ok.Add(1)
					lat = append(lat, ms)
				} else {
					res.OpsFailed++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	res.Ops = ok.Load()
	res.Bytes = res.Ops * size
	res.Seconds = secs
	res.MBps = round2(float64(res.Bytes) / secs / 1e6)
	res.MiBps = round2(float64(res.Bytes) / secs / (1 << 20))
	res.OpsPerS = round2(float64(res.Ops) / secs)
	res.ReqPerS = round2(float64(res.Requests) / secs)
	slices.Sort(lat)
	res.P50, res.P90, res.P99 = quantile(lat, 0.5), quantile(lat, 0.9), quantile(lat, 0.99)
	if len(lat) > 0 {
		res.Max = lat[len(lat)-1]
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		log.Fatalf("s3put: %v", err)
	}
	if res.OpsFailed > 0 || res.Ops == 0 {
		os.Exit(1)
	}
}

// put PUTs size bytes, block after block, to key at a URL presigned for it.
func put(ctx context.Context, hc *http.Client, presign *s3.PresignClient, bucket, key string, block []byte, size int64) (int, error) {
	req, err := presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return 0, fmt.Errorf("presign: %w", err)
	}
	body := io.LimitReader(repeat{block}, size)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPut, req.URL, body)
	if err != nil {
		return 0, err
	}
	hreq.ContentLength = size
	hreq.Header.Set("Content-Type", "application/octet-stream")
	resp, err := hc.Do(hreq)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// repeat reads its block again and again.
type repeat struct{ block []byte }

func (r repeat) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], r.block)
	}
	return n, nil
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// parseSize reads 4KiB, 256MiB, 1GiB or a plain number of bytes.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("size %q", s)
	}
	return v * mult, nil
}
