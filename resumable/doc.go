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
// expiration, checksum and concatenation, over the Service's
// resumable-upload engine (Service.CreateUpload, AppendUpload, GetUpload,
// TerminateUpload, ConcatUploads). A PATCH cut midway keeps the bytes
// that arrived; a HEAD while an earlier PATCH still holds the upload (its
// client went silent) interrupts that PATCH and answers the offset the
// next PATCH must name. Every
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
// # IETF draft
//
// The same endpoint speaks the IETF draft "Resumable Uploads for HTTP"
// (draft-ietf-httpbis-resumable-upload) to a request whose
// Upload-Draft-Interop-Version is one of InteropVersions: 5 (draft -03),
// 6 (-04, -05) and 8 (-09 to -11), the first two as tus-js-client's
// protocols 'ietf-draft-03' and 'ietf-draft-05' send them. Any other
// value is a tus request (412 without Tus-Resumable), never answered with
// a 104. A creation is a POST to {prefix}/uploads/ with Upload-Complete
// (?1: the content is the whole file; ?0: more comes by PATCH); once the
// session is stored, and before the content is read, an interim 104
// (StatusUploadResumptionSupported) gives its Location, the interop
// version and, from version 6, Upload-Limit (not over HTTP/1.0; a
// middleware wrapping the ResponseWriter must pass a 1xx WriteHeader
// through and wait for the final one). Appends are PATCHes with
// Upload-Offset and Upload-Complete (from version 6 of type
// PartialUploadType, else 415), HEAD retrieves the offset, DELETE cancels.
// The request that completes the upload is answered as the native upload:
// 201, Location {prefix}/{id} and {"attachments":[...]}, with
// Upload-Complete: ?1 and Upload-Offset; an incomplete one with
// Upload-Complete: ?0 and Upload-Offset. Upload-Limit (versions 6 and 8)
// says min-size=0, max-size (Options.MaxFileSize), max-append-size
// (HandlerOptions.MaxRequestSize) and the upload's remaining lifetime
// (expires in 6, max-age in 8). From version 6, a wrong offset (409) and
// an append to a completed upload (400) carry the draft's problem types
// (with expected-offset and provided-offset for the former), and version
// 8 uses inconsistent-upload-length for lengths that disagree (400) and
// answers a repeat of the completing request without content with the
// completion again. An expired upload is 404 (not active).
//
// Metadata: Upload-Metadata as for tus (tus-js-client sends it in the
// draft's protocols too); failing that, as for the native raw upload, the
// name from the filename query parameter or Content-Disposition, the
// claimed type from Content-Type (but application/partial-upload) and
// owner and label.KEY from the query. Repr-Digest's sha-256 is the whole
// file's, as Content-Digest's (and Content-MD5) on a creation with
// Upload-Complete: ?1: a mismatch is 400 checksum_mismatch once the last
// byte is in, and nothing is kept. On any other request (an append, a
// creation with Upload-Complete: ?0) Content-Digest (or Content-MD5)
// covers that request's content only: a mismatch is 400
// checksum_mismatch, that content is discarded and the offset stays. A
// HEAD while an append holds the upload interrupts it, as for tus. Known
// differences from the draft: an upload whose declared Upload-Length is
// reached is completed by that append even with Upload-Complete: ?0; no
// 104 reports progress while content is read.
package resumable
