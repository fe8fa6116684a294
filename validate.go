package attachment

import (
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// validID reports whether id is an attachment ID in canonical form. Other
// strings cannot name an attachment, so they are ErrNotFound without a
// store lookup.
func validID(id string) bool {
	if len(id) != 36 {
		return false
	}
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

// checkField validates an owner, reference, label key or label value.
func (c *core) checkField(what, v string) error {
	if len(v) > c.opts.MaxFieldBytes {
		return inputErr(ErrInvalid, "%s is longer than %d bytes", what, c.opts.MaxFieldBytes)
	}
	if !utf8.ValidString(v) {
		return inputErr(ErrInvalid, "%s is not valid UTF-8", what)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return inputErr(ErrInvalid, "%s contains a control character", what)
		}
	}
	return nil
}

func (c *core) checkOwner(owner string) error { return c.checkField("owner", owner) }

func (c *core) checkRef(ref string) error {
	if ref == "" {
		return inputErr(ErrInvalid, "a reference must not be empty")
	}
	return c.checkField("reference", ref)
}

func (c *core) checkLabels(labels map[string]string) error {
	if c.opts.MaxLabels != Off && len(labels) > c.opts.MaxLabels {
		return inputErr(ErrInvalid, "at most %d labels are allowed", c.opts.MaxLabels)
	}
	for k, v := range labels {
		if k == "" {
			return inputErr(ErrInvalid, "a label key must not be empty")
		}
		if err := c.checkField("label key", k); err != nil {
			return err
		}
		if err := c.checkField("label value", v); err != nil {
			return err
		}
	}
	return nil
}
