// Package documents serves the attachment API of a document editor's
// "Attachments" service over an attachment.Handler: files uploaded to a
// document of a workspace, listed per document, served by an opaque key
// and deleted by ID, every answer wrapped in {"success": ..., "data": ...}.
//
// Routes, relative to the mount point (BasePath, /api/v1/attachments, by
// default):
//
//	POST   /upload               multipart: file, workspaceId, documentId
//	GET    /file?url={key}       the content (HEAD: its headers)
//	GET    /document/{documentId} the document's attachments
//	DELETE /{id}                 delete an attachment
//
// Clients send their credential as "Authorization: Bearer TOKEN" (Token).
// Every request goes through the host Handler's access hook
// (Handler.Authorize), and every error is answered as
// {"success":false,"error":{"code":...,"message":...}} with the status and
// code the native API would give.
//
// A document's attachments are native attachments with the labels
// documentId and workspaceId and the owner "document:{documentId}", so the
// native API lists them with ?label.documentId=...; the key in a file URL
// is the attachment's ID. docs/dialects.md says every choice.
package documents
