package digest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/attachkit/attachment/internal/digest"
)

func ExampleParse() {
	body := []byte(`{"hello": "world"}`)
	sum := sha256.Sum256(body)
	header := "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:, sha-256=:" +
		base64.StdEncoding.EncodeToString(sum[:]) + ":"

	exp, err := digest.Parse(header, "")
	fmt.Println(err, bytes.Equal(exp.SHA256, sum[:]), exp.MD5 == nil)

	_, err = digest.Parse("sha-256=:AAAA:", "")
	fmt.Println(err)
	// Output:
	// <nil> true true
	// digest: malformed digest header: Content-Digest: sha-256 has 3 bytes, not 32
}
