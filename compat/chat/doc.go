// Package chat serves the attachment routes of a chat-room Web API over an
// attachment.Service: files uploaded to a text message of a room, their
// metadata, their download by ID and file name, and their deletion, in that
// API's JSON shapes and its error body {"errorText": ..., "httpStatusCode": N}.
//
// Routes, under BasePath (/api/v1):
//
//	POST   /messages/{messageId}/attachments   multipart/form-data, files under "files"
//	GET    /attachments/{attachmentId}          the metadata (Attachment)
//	DELETE /attachments/{attachmentId}
//	GET    /attachments/{attachmentId}/{fileName}  the content
//
// Clients authenticate with an HTTP-only session cookie named "session";
// Token returns its value for the host's access hook. Because a browser
// sends cookies with requests that other sites start, a host serving this
// dialect must set attachment.HandlerOptions.CrossOrigin on the Handler it
// passes to New (see New).
//
// An upload stores its message's ID as the label "textMessageId" and its
// room's ID, when known, as the label "roomId", so the native API lists a
// message's or a room's attachments with ?label.textMessageId=... or
// ?label.roomId=....
package chat
