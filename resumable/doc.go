// Package resumable serves resumable uploads over the tus 1.0.0 protocol
// (https://tus.io/protocols/resumable-upload) for an attachment.Handler:
// a dropped connection costs only the bytes in flight, and the client
// goes on from the offset the server has.
//
// Mount it with HandlerOptions.Uploads; the Handler then hands it every
// request for {prefix}/uploads, {prefix}/uploads/ and
// {prefix}/uploads/{id}:
//
//	h := attachment.NewHandler(svc, &attachment.HandlerOptions{
//		Prefix:  "/attachments",
//		Uploads: resumable.New(nil),
//	})
//
// It speaks the core protocol (OPTIONS, HEAD, PATCH) and the extensions
// creation, creation-with-upload, creation-defer-length, termination,
// expiration, checksum and concatenation, over the Service's resumable-upload engine
// (Service.CreateUpload, AppendUpload, GetUpload, TerminateUpload). Every
// request goes through the Handler's access flow (Authorize with
// attachment.OpUpload) and an upload is seen only by its tenant and by
// the caller that created it (Caller.Name); anything else is 404. The
// upload's ID is its attachment's: while it is incomplete {prefix}/{id}
// is 404 and the attachment is not listed; the append that brings it to
// its length commits it, checked and processed as every upload, and
// answers with Location: {prefix}/{id}.
//
// Upload-Metadata keys: filename (or name), filetype (or contentType, or
// type: the client's claim, as File.ContentType), owner, and label.KEY for
// each label; others are ignored. Without a name the file is named
// Options.DefaultName. The header is kept verbatim (at most
// MaxMetadataBytes) and returned by HEAD.
//
// Errors are problem+json bodies (as the native API's, with its codes)
// carrying Tus-Resumable: 1.0.0: 400 for a malformed header, 404 for an
// unknown upload, 409 (with Upload-Offset) for a wrong offset, 410 for an
// expired one not removed yet, 412 (with Tus-Version) for a request other
// than OPTIONS, HEAD and GET without Tus-Resumable: 1.0.0, 413 for an
// Upload-Length over Options.MaxFileSize (at creation, before any byte)
// or bytes past the length, 415 for a PATCH whose Content-Type is not
// application/offset+octet-stream, 423 (with Retry-After) while another
// request appends to the upload, and 460 (code checksum_mismatch) for a
// PATCH whose bytes do not match its Upload-Checksum (sha1, md5 or
// sha256): those bytes are discarded whole and the offset is unchanged.
//
// Concatenation (Service.ConcatUploads): uploads created with
// Upload-Concat: partial need no metadata and are never attachments on
// their own; a creation with Upload-Concat: final;URL… (no Upload-Length,
// its own Upload-Metadata) joins complete partials of the same caller, in
// its order, into one attachment with an ID of its own, committed before
// the 201 answers, and removes them. Their URLs may be absolute (any host)
// or relative, and must be this layer's. A HEAD of a partial has
// Upload-Concat: partial; a HEAD of a final, committed at once, has none.
//
// Not implemented yet: the IETF draft "Resumable Uploads for HTTP".
package resumable
