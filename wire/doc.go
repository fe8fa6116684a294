// Package wire is what a client and a server of the attachment HTTP API
// share: the types that travel in its JSON bodies and query strings
// ([Attachment], [Page], [ListOptions], [Change], [Status], [SignedURL],
// [Problem], ...), its stable problem codes ([CodeNotFound], ...), the
// sentinel errors those codes stand for ([ErrNotFound], ...), and the one
// table ([Kinds]) that ties each code to its HTTP status and sentinel.
//
// It imports only the standard library, so a program that only calls the
// API (package client) does not carry the server, its stores or its image
// code. The root package attachment re-exports every name here under its
// old name (attachment.Attachment is wire.Attachment, attachment.ErrNotFound
// is wire.ErrNotFound, ...), and package metadata's ErrNotFound, ErrExists
// and ErrReferenced are these same errors, so errors.Is holds across the
// client, the Service, the Handler and the stores alike.
//
// The Handler answers an error with the status and code of the first kind
// whose sentinel it wraps ([KindOfError]); the client turns a problem's
// code back into that sentinel ([ErrorOf], [KindOfCode]). See
// docs/api.md for the HTTP API itself.
package wire
