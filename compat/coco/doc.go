// Package coco serves the attachment API of the Coco AI server over an
// attachment.Handler: multipart upload of any number of files into a chat
// session (POST /_upload), content (GET and HEAD /{id}), delete
// (DELETE /{id}), an Elasticsearch-shaped listing of a session's
// attachments (GET /_search?session=S), and the state of their parsing
// (GET /{id}/status, POST /_status), with errors in the Elasticsearch
// shape Coco's server uses ({"error":{"reason":...},"status":N}).
//
// Every route goes through the host Handler's access flow (its Access
// hook) and acts in the caller's tenant on the same records as the native
// API. A Coco session is the label "session", so the native API lists a
// session's attachments with ?label.session=S, and an attachment uploaded
// natively is served on the single-attachment routes here all the same.
// Coco's clients send their credential in the X-API-TOKEN header; Token
// reads it, for the host's access hook to check.
//
// Coco names attachments by xid strings; here they are the Service's
// UUIDv7 strings, which Coco's clients treat as opaque strings as well.
package coco
