package attachment_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// secret returns a 32-byte secret made of b.
func signingSecret(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// signClock is a settable clock for signers.
type signClock struct{ ns atomic.Int64 }

func newSignClock(t time.Time) *signClock {
	c := &signClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *signClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *signClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

var signClockStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newSigner returns a signer of keys on clock c (nil: the real clock).
func newSigner(t testing.TB, c *signClock, o attachment.SignerOptions) *attachment.Signer {
	t.Helper()
	s, err := attachment.NewSigner(o)
	require.NoError(t, err)
	if c != nil {
		attachment.SetSignerClock(s, c.now)
	}
	return s
}

func signingKeys(ids ...string) []attachment.SigningKey {
	var ks []attachment.SigningKey
	for _, id := range ids {
		ks = append(ks, attachment.SigningKey{ID: id, Secret: signingSecret(id[len(id)-1])})
	}
	return ks
}

func TestNewSigner(t *testing.T) {
	for name, o := range map[string]attachment.SignerOptions{
		"no keys":           {},
		"short secret":      {Keys: []attachment.SigningKey{{ID: "k1", Secret: make([]byte, 31)}}},
		"empty ID":          {Keys: []attachment.SigningKey{{ID: "", Secret: signingSecret(1)}}},
		"ID with a space":   {Keys: []attachment.SigningKey{{ID: "k 1", Secret: signingSecret(1)}}},
		"ID with a slash":   {Keys: []attachment.SigningKey{{ID: "k/1", Secret: signingSecret(1)}}},
		"ID too long":       {Keys: []attachment.SigningKey{{ID: string(bytes.Repeat([]byte("k"), 65)), Secret: signingSecret(1)}}},
		"ID twice":          {Keys: []attachment.SigningKey{{ID: "k1", Secret: signingSecret(1)}, {ID: "k1", Secret: signingSecret(2)}}},
		"default above max": {Keys: signingKeys("k1"), DefaultTTL: time.Hour, MaxTTL: time.Minute},
		"max under 1s":      {Keys: signingKeys("k1"), MaxTTL: time.Millisecond, DefaultTTL: time.Millisecond},
	} {
		_, err := attachment.NewSigner(o)
		assert.Error(t, err, name)
	}
	// Lifetimes follow the rule of Options: zero is the default, anything
	// out of range an error that names the field.
	for field, o := range map[string]attachment.SignerOptions{
		"SignerOptions.DefaultTTL": {Keys: signingKeys("k1"), DefaultTTL: -time.Minute},
		"SignerOptions.MaxTTL":     {Keys: signingKeys("k1"), MaxTTL: attachment.Off},
	} {
		_, err := attachment.NewSigner(o)
		require.ErrorIs(t, err, attachment.ErrInvalidOptions, field)
		assert.ErrorContains(t, err, field+" is ")
	}

	s := newSigner(t, nil, attachment.SignerOptions{Keys: signingKeys("k1")})
	assert.Equal(t, attachment.DefaultSignedURLTTL, s.DefaultTTL())
	assert.Equal(t, attachment.DefaultSignedURLMaxTTL, s.MaxTTL())
	s = newSigner(t, nil, attachment.SignerOptions{Keys: signingKeys("k1"), MaxTTL: time.Minute})
	assert.Equal(t, time.Minute, s.DefaultTTL(), "the default is cut to a lower maximum")

	// The secret is copied: changing the caller's slice changes nothing.
	sec := signingSecret(7)
	s = newSigner(t, nil, attachment.SignerOptions{Keys: []attachment.SigningKey{{ID: "k7", Secret: sec}}})
	q, _, err := s.Sign("", "id1", 0, "")
	require.NoError(t, err)
	sec[0] = 0
	_, err = s.Verify("id1", q)
	require.NoError(t, err)
}

func TestSignVerify(t *testing.T) {
	c := newSignClock(signClockStart)
	s := newSigner(t, c, attachment.SignerOptions{Keys: signingKeys("k1"), DefaultTTL: time.Minute, MaxTTL: time.Hour})

	q, exp, err := s.Sign("acme", "id1", 0, "")
	require.NoError(t, err)
	assert.Equal(t, signClockStart.Add(time.Minute), exp, "the default lifetime")
	assert.Equal(t, strconv.FormatInt(exp.Unix(), 10), q.Get("expires"))
	assert.Equal(t, "k1", q.Get("kid"))
	assert.Equal(t, "acme", q.Get("tenant"))
	assert.False(t, q.Has("disposition"))
	assert.Len(t, q.Get("sig"), 43)
	tenant, err := s.Verify("id1", q)
	require.NoError(t, err)
	assert.Equal(t, "acme", tenant)

	// The default tenant travels as no tenant parameter.
	q, _, err = s.Sign("", "id1", 0, "attachment")
	require.NoError(t, err)
	assert.False(t, q.Has("tenant"))
	assert.False(t, q.Has("disposition"), "attachment is the default and not written")
	tenant, err = s.Verify("id1", q)
	require.NoError(t, err)
	assert.Equal(t, "", tenant)

	_, exp, err = s.Sign("", "id1", 10*time.Hour, "")
	require.NoError(t, err)
	assert.Equal(t, signClockStart.Add(time.Hour), exp, "cut to the maximum")
	_, exp, err = s.Sign("", "id1", 1500*time.Millisecond, "")
	require.NoError(t, err)
	assert.Equal(t, signClockStart.Add(2*time.Second), exp, "whole seconds, rounded up")

	_, _, err = s.Sign("", "id1", 0, "evil")
	assert.ErrorIs(t, err, attachment.ErrInvalid)
	_, _, err = s.Sign("", "", 0, "")
	assert.ErrorIs(t, err, attachment.ErrInvalid)

	// Expiry: valid up to the second before, refused from it on.
	q, _, err = s.Sign("acme", "id1", time.Minute, "inline")
	require.NoError(t, err)
	c.advance(time.Minute - time.Second)
	_, err = s.Verify("id1", q)
	require.NoError(t, err)
	c.advance(time.Second)
	_, err = s.Verify("id1", q)
	require.ErrorIs(t, err, attachment.ErrForbidden)
	assert.Contains(t, err.Error(), "expired")
}

// Every signed field, changed, removed or repeated, is refused.
func TestVerifyTampered(t *testing.T) {
	c := newSignClock(signClockStart)
	s := newSigner(t, c, attachment.SignerOptions{Keys: signingKeys("k1", "k2"), MaxTTL: time.Hour})
	good, _, err := s.Sign("acme", "id1", time.Minute, "inline")
	require.NoError(t, err)
	_, err = s.Verify("id1", good)
	require.NoError(t, err)

	_, err = s.Verify("id2", good)
	assert.ErrorIs(t, err, attachment.ErrForbidden, "another attachment")

	edits := map[string]func(q url.Values){
		"expires later":     func(q url.Values) { q.Set("expires", strconv.FormatInt(signClockStart.Unix()+120, 10)) },
		"expires with zero": func(q url.Values) { q.Set("expires", "0"+q.Get("expires")) },
		"expires with plus": func(q url.Values) { q.Set("expires", "+"+q.Get("expires")) },
		"kid other":         func(q url.Values) { q.Set("kid", "k2") },
		"kid unknown":       func(q url.Values) { q.Set("kid", "k9") },
		"tenant other":      func(q url.Values) { q.Set("tenant", "other") },
		"tenant removed":    func(q url.Values) { q.Del("tenant") },
		"disposition":       func(q url.Values) { q.Set("disposition", "attachment") },
		"disposition gone":  func(q url.Values) { q.Del("disposition") },
		"sig flipped":       func(q url.Values) { b := []byte(q.Get("sig")); b[3] ^= 1; q.Set("sig", string(b)) },
		"sig short":         func(q url.Values) { q.Set("sig", q.Get("sig")[:42]) },
		"sig padded":        func(q url.Values) { q.Set("sig", q.Get("sig")+"=") },
		"sig std base64":    func(q url.Values) { q.Set("sig", base64.StdEncoding.EncodeToString(make([]byte, 32))) },
		"sig removed":       func(q url.Values) { q.Del("sig") },
		"kid removed":       func(q url.Values) { q.Del("kid") },
		"expires removed":   func(q url.Values) { q.Del("expires") },
		"sig twice":         func(q url.Values) { q.Add("sig", q.Get("sig")) },
		"kid twice":         func(q url.Values) { q.Add("kid", "k1") },
		"tenant twice":      func(q url.Values) { q.Add("tenant", "acme") },
		"disposition twice": func(q url.Values) { q.Add("disposition", "inline") },
	}
	for name, edit := range edits {
		q := url.Values{}
		for k, v := range good {
			q[k] = append([]string(nil), v...)
		}
		edit(q)
		_, err := s.Verify("id1", q)
		assert.ErrorIs(t, err, attachment.ErrForbidden, name)
	}

	// A signature by another secret under the same key ID.
	other := newSigner(t, c, attachment.SignerOptions{Keys: []attachment.SigningKey{{ID: "k1", Secret: signingSecret(9)}}})
	q, _, err := other.Sign("acme", "id1", time.Minute, "inline")
	require.NoError(t, err)
	_, err = s.Verify("id1", q)
	assert.ErrorIs(t, err, attachment.ErrForbidden, "another secret")

	// An expiry further ahead than the maximum (as after the maximum was
	// lowered) is refused, though signed.
	long := newSigner(t, c, attachment.SignerOptions{Keys: signingKeys("k1"), MaxTTL: 48 * time.Hour})
	q, _, err = long.Sign("acme", "id1", 48*time.Hour, "")
	require.NoError(t, err)
	_, err = long.Verify("id1", q)
	require.NoError(t, err)
	_, err = s.Verify("id1", q)
	assert.ErrorIs(t, err, attachment.ErrForbidden, "beyond the maximum lifetime")
}

// Rotation: a new key signs, the old one verifies while it is in the set,
// and nothing it signed verifies once it is removed.
func TestSignerRotation(t *testing.T) {
	c := newSignClock(signClockStart)
	old := newSigner(t, c, attachment.SignerOptions{Keys: signingKeys("k1")})
	q1, _, err := old.Sign("", "id1", 0, "")
	require.NoError(t, err)

	rotated := newSigner(t, c, attachment.SignerOptions{Keys: signingKeys("k2", "k1")})
	_, err = rotated.Verify("id1", q1)
	require.NoError(t, err, "the old key still verifies")
	q2, _, err := rotated.Sign("", "id1", 0, "")
	require.NoError(t, err)
	assert.Equal(t, "k2", q2.Get("kid"))
	_, err = old.Verify("id1", q2)
	assert.ErrorIs(t, err, attachment.ErrForbidden, "the old set does not know the new key")

	retired := newSigner(t, c, attachment.SignerOptions{Keys: signingKeys("k2")})
	_, err = retired.Verify("id1", q1)
	assert.ErrorIs(t, err, attachment.ErrForbidden, "a retired key is refused")
	_, err = retired.Verify("id1", q2)
	require.NoError(t, err)
}

// specMAC computes a signature from the format documented in signing.go,
// independently of the code under test.
func specMAC(secret []byte, kid, tenant, id, expires, disposition string) string {
	m := hmac.New(sha256.New, secret)
	for _, f := range []string{"attachment signed url v1", kid, tenant, id, expires, "read", disposition} {
		_ = binary.Write(m, binary.BigEndian, uint64(len(f)))
		m.Write([]byte(f))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestSignatureFormat(t *testing.T) {
	s := newSigner(t, newSignClock(signClockStart), attachment.SignerOptions{Keys: signingKeys("k1")})
	q, _, err := s.Sign("acme", "id1", time.Minute, "inline")
	require.NoError(t, err)
	assert.Equal(t, specMAC(signingSecret('1'), "k1", "acme", "id1", q.Get("expires"), "inline"), q.Get("sig"))
}

// FuzzSignedQuery checks that verification never panics and that only a
// valid signature, made with the set's key over exactly the fields given,
// is accepted.
func FuzzSignedQuery(f *testing.F) {
	c := newSignClock(signClockStart)
	s := newSigner(f, c, attachment.SignerOptions{Keys: signingKeys("k1")})
	for _, tc := range []struct{ tenant, disp string }{{"", ""}, {"acme", "inline"}, {"a&b=c", ""}} {
		q, _, err := s.Sign(tc.tenant, "id1", time.Minute, tc.disp)
		require.NoError(f, err)
		f.Add("id1", q.Encode())
		f.Add("id2", q.Encode())
		f.Add("id1", q.Encode()+"&sig=x")
	}
	f.Add("id1", "expires=1&kid=k1&sig=")
	f.Add("", "expires=99999999999999999999&kid=k1&sig=AAAA")
	f.Add("id1", "%zz&kid=k1")
	f.Fuzz(func(t *testing.T, id, raw string) {
		q, _ := url.ParseQuery(raw)
		tenant, err := s.Verify(id, q)
		if err != nil {
			if !errors.Is(err, attachment.ErrForbidden) {
				t.Fatalf("error %v does not wrap ErrForbidden", err)
			}
			return
		}
		if tenant != q.Get("tenant") || q.Get("kid") != "k1" || len(q["sig"]) != 1 {
			t.Fatalf("accepted %q for %q", raw, id)
		}
		if want := specMAC(signingSecret('1'), "k1", tenant, id, q.Get("expires"), q.Get("disposition")); q.Get("sig") != want {
			t.Fatalf("accepted a signature that is not the HMAC: %q", raw)
		}
		exp, err := strconv.ParseInt(q.Get("expires"), 10, 64)
		if err != nil || exp <= c.now().Unix() {
			t.Fatalf("accepted an expired or malformed expiry: %q", raw)
		}
	})
}

// A Signer holds the host's keys: the first signs, all verify. The query
// string it returns goes on the download URL (Handler.SignedURL and POST
// /{id}/signed-url add it for you).
func ExampleSigner() {
	signer, err := attachment.NewSigner(attachment.SignerOptions{
		Keys: []attachment.SigningKey{
			{ID: "2026-02", Secret: []byte("a secret of at least 32 bytes, from a vault")},
			{ID: "2026-01", Secret: []byte("the previous secret, until its URLs expire")},
		},
		DefaultTTL: 10 * time.Minute,
		MaxTTL:     time.Hour,
	})
	if err != nil {
		panic(err)
	}
	q, expires, err := signer.Sign("acme", "0194f5d2-7c3e-7a51-9c1b-3d2e4f5a6b7c", 0, "inline")
	if err != nil {
		panic(err)
	}
	fmt.Println("key:", q.Get("kid"), "tenant:", q.Get("tenant"), "disposition:", q.Get("disposition"))
	fmt.Println("lifetime:", time.Until(expires).Round(time.Minute))

	tenant, err := signer.Verify("0194f5d2-7c3e-7a51-9c1b-3d2e4f5a6b7c", q)
	fmt.Printf("verified for tenant %q: %v\n", tenant, err)

	q.Set("tenant", "globex")
	_, err = signer.Verify("0194f5d2-7c3e-7a51-9c1b-3d2e4f5a6b7c", q)
	fmt.Println("tampered:", errors.Is(err, attachment.ErrForbidden))
	// Output:
	// key: 2026-02 tenant: acme disposition: inline
	// lifetime: 10m0s
	// verified for tenant "acme": <nil>
	// tampered: true
}
