package attachment

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"strconv"
	"time"
)

// Signed URLs let a client that holds no credentials read one attachment
// (its content, and its thumbnails) until a set time. The Handler makes
// them (POST /{id}/signed-url, or Handler.SignedURL from Go) and honours
// them on GET and HEAD /{id} and /{id}/thumbnail. They are HMAC-SHA256
// signatures with keys the host holds in a Signer; see docs/api.md.
//
// A signed URL is the download URL with these query parameters:
//
//	expires      the expiry, Unix seconds (decimal, no sign or zeros in front)
//	kid          the ID of the key that signed
//	tenant       the attachment's tenant (absent for the default tenant "")
//	disposition  "inline" when the signer asked for it (absent otherwise)
//	sig          the HMAC, unpadded base64url (43 characters)
//
// The HMAC covers, each length-prefixed so no two messages read alike: a
// version label, the key ID, the tenant, the attachment ID, the expiry, the
// grant ("read": the content and its thumbnails) and the disposition. The
// thumbnail size is not covered: a signature that may read the content
// may read any thumbnail of it, in any size the host allows; size shapes
// nothing a download would not give away. Every other query parameter
// (range, conditional headers) is what any reader of the content may ask.

// The query parameters of a signed URL.
const (
	signExpires     = "expires"
	signKeyID       = "kid"
	signTenant      = "tenant"
	signDisposition = "disposition"
	signSig         = "sig"
)

// signVersion labels the message format, so that a future format can
// never verify as this one.
const signVersion = "attachment signed url v1"

// signGrant is the one grant a signature carries: read the content (GET
// and HEAD /{id}) and its thumbnails.
const signGrant = "read"

// MinSigningKeyBytes is the shortest secret NewSigner accepts.
const MinSigningKeyBytes = 32

// The defaults of SignerOptions.
const (
	DefaultSignedURLTTL    = 15 * time.Minute
	DefaultSignedURLMaxTTL = 24 * time.Hour
)

// expirySlack is how far beyond the maximum lifetime an expiry may lie
// when it is verified, for clocks of several instances that disagree a
// little.
const expirySlack = time.Minute

// SigningKey is one HMAC key of a Signer.
type SigningKey struct {
	// ID names the key in the URLs it signs: 1 to 64 characters of
	// A-Z, a-z, 0-9, '.', '_' and '-'. It is public.
	ID string
	// Secret is the HMAC-SHA256 key: at least MinSigningKeyBytes (32)
	// random bytes. It never leaves the host.
	Secret []byte
}

// SignerOptions configures a Signer.
type SignerOptions struct {
	// Keys are the keys the Signer knows. The first one signs; every one
	// verifies. To rotate, put a new key first and keep the old one after
	// it for as long as URLs it signed must work (at most MaxTTL); then
	// remove it, and the URLs it signed are refused. At least one key.
	Keys []SigningKey
	// DefaultTTL is the lifetime of a signed URL when the caller asks for
	// none. Zero means DefaultSignedURLTTL (15 minutes), or MaxTTL when
	// that is less. The rule of Options applies (a negative value is
	// invalid); there is no Off.
	DefaultTTL time.Duration
	// MaxTTL is the longest lifetime: longer requests are cut to it, and
	// URLs expiring further ahead than it (as after MaxTTL was lowered) are
	// refused. Zero means DefaultSignedURLMaxTTL (24 hours); it must be at
	// least 1 s. There is no Off.
	MaxTTL time.Duration
}

// Signer makes and checks the signatures of signed URLs with keys the host
// holds. There is no built-in key: without a Signer in HandlerOptions, the
// Handler makes no signed URLs and honours none. A Signer is safe for
// concurrent use.
type Signer struct {
	current    string
	keys       map[string][]byte
	defaultTTL time.Duration
	maxTTL     time.Duration
	now        func() time.Time // time.Now, but for tests
}

// NewSigner returns a Signer with the keys and lifetimes of o. It refuses
// no keys, secrets shorter than MinSigningKeyBytes, malformed or repeated
// key IDs, and lifetimes out of range (an error wrapping
// ErrInvalidOptions, naming the field). The secrets are copied.
func NewSigner(o SignerOptions) (*Signer, error) {
	if len(o.Keys) == 0 {
		return nil, errors.New("attachment: NewSigner: no signing keys")
	}
	s := &Signer{
		current:    o.Keys[0].ID,
		keys:       make(map[string][]byte, len(o.Keys)),
		defaultTTL: o.DefaultTTL,
		maxTTL:     o.MaxTTL,
		now:        time.Now,
	}
	for _, k := range o.Keys {
		if !validKeyID(k.ID) {
			return nil, fmt.Errorf("attachment: NewSigner: key ID %q: want 1 to 64 of A-Z a-z 0-9 . _ -", truncate(k.ID, 64))
		}
		if len(k.Secret) < MinSigningKeyBytes {
			return nil, fmt.Errorf("attachment: NewSigner: key %s: the secret has %d bytes, want at least %d", k.ID, len(k.Secret), MinSigningKeyBytes)
		}
		if _, dup := s.keys[k.ID]; dup {
			return nil, fmt.Errorf("attachment: NewSigner: key ID %s given twice", k.ID)
		}
		s.keys[k.ID] = append([]byte(nil), k.Secret...)
	}
	var k checker
	set(&k, "SignerOptions.MaxTTL", &s.maxTTL, DefaultSignedURLMaxTTL, time.Second, "")
	set(&k, "SignerOptions.DefaultTTL", &s.defaultTTL, min(DefaultSignedURLTTL, max(s.maxTTL, time.Second)), 1, "")
	if err := k.err(); err != nil {
		return nil, err
	}
	if s.defaultTTL > s.maxTTL {
		return nil, fmt.Errorf("%w: SignerOptions.DefaultTTL is %v; want at most MaxTTL (%v)", ErrInvalidOptions, s.defaultTTL, s.maxTTL)
	}
	return s, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// DefaultTTL is the lifetime of a URL signed with a ttl of zero.
func (s *Signer) DefaultTTL() time.Duration { return s.defaultTTL }

// MaxTTL is the longest lifetime of a signed URL.
func (s *Signer) MaxTTL() time.Duration { return s.maxTTL }

// Sign signs a grant to read attachment id of tenant, and returns the
// query parameters of the signed URL (see Signer) and when it expires.
//
// ttl <= 0 means the default lifetime; one above the maximum is cut to it;
// the expiry is in whole seconds, rounded up. disposition is "" or
// "attachment" (the download's default) or "inline" (asked for on the
// download, and granted there only for types safe to display); any other
// value is an error wrapping ErrInvalid.
//
// Sign does not check that the attachment exists, nor who may read it:
// Handler.SignedURL and POST /{id}/signed-url do.
func (s *Signer) Sign(tenant, id string, ttl time.Duration, disposition string) (url.Values, time.Time, error) {
	switch disposition {
	case "", "attachment":
		disposition = ""
	case "inline":
	default:
		return nil, time.Time{}, inputErr(ErrInvalid, "disposition must be inline or attachment")
	}
	if id == "" {
		return nil, time.Time{}, inputErr(ErrInvalid, "no attachment ID")
	}
	if ttl <= 0 {
		ttl = s.defaultTTL
	}
	ttl = min(ttl, s.maxTTL)
	secs := int64((ttl + time.Second - 1) / time.Second)
	exp := s.now().Unix() + secs
	expires := strconv.FormatInt(exp, 10)
	q := url.Values{}
	q.Set(signExpires, expires)
	q.Set(signKeyID, s.current)
	if tenant != "" {
		q.Set(signTenant, tenant)
	}
	if disposition != "" {
		q.Set(signDisposition, disposition)
	}
	q.Set(signSig, base64.RawURLEncoding.EncodeToString(s.mac(s.keys[s.current], s.current, tenant, id, expires, disposition)))
	return q, time.Unix(exp, 0).UTC(), nil
}

// hasSignature reports whether q carries any parameter of a signed URL
// (expires, kid or sig). The Handler judges such a request by its
// signature alone.
func hasSignature(q url.Values) bool {
	return q.Has(signSig) || q.Has(signKeyID) || q.Has(signExpires)
}

// Verify checks the signed query parameters q of a request for attachment
// id, and returns the tenant they grant reading in. Any error wraps
// ErrForbidden: a missing, repeated or malformed parameter, an unknown
// (or retired) key ID, an expiry that has passed or lies further ahead
// than the maximum lifetime, and a signature that does not match (compared
// in constant time).
func (s *Signer) Verify(id string, q url.Values) (tenant string, err error) {
	one := func(name string, required bool) (string, bool) {
		v, ok := q[name]
		switch {
		case len(v) == 1:
			return v[0], true
		case !ok:
			return "", !required
		}
		return "", false
	}
	expires, ok1 := one(signExpires, true)
	kid, ok2 := one(signKeyID, true)
	sig, ok3 := one(signSig, true)
	tenant, ok4 := one(signTenant, false)
	disposition, ok5 := one(signDisposition, false)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || id == "" {
		return "", errBadSignature
	}
	key, ok := s.keys[kid]
	if !ok {
		return "", errBadSignature
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || strconv.FormatInt(exp, 10) != expires || exp <= 0 {
		return "", errBadSignature
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return "", errBadSignature
	}
	if !hmac.Equal(got, s.mac(key, kid, tenant, id, expires, disposition)) {
		return "", errBadSignature
	}
	now := s.now().Unix()
	if now >= exp {
		return "", errExpiredSignature
	}
	if exp-now > int64((s.maxTTL+expirySlack)/time.Second) {
		return "", errBadSignature
	}
	return tenant, nil
}

var (
	errBadSignature     = &Error{Kind: ErrForbidden, Detail: "the URL's signature is not valid"}
	errExpiredSignature = &Error{Kind: ErrForbidden, Detail: "the signed URL has expired"}
)

// mac is the HMAC of one signed URL's fields, each length-prefixed.
func (s *Signer) mac(key []byte, kid, tenant, id, expires, disposition string) []byte {
	m := hmac.New(sha256.New, key)
	for _, f := range []string{signVersion, kid, tenant, id, expires, signGrant, disposition} {
		writeField(m, f)
	}
	return m.Sum(nil)
}

func writeField(h hash.Hash, f string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(f)))
	h.Write(n[:])
	h.Write([]byte(f))
}
