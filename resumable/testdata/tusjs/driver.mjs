// driver.mjs runs one upload with tus-js-client under Node for
// resumable/tusjs_test.go and reports what happened as JSON lines on
// stdout, one event per line:
//
//	{"event":"start","version":"4.3.1"}           the client's package version
//	{"event":"url","url":"..."}                   the upload URL is known
//	{"event":"progress","bytesSent":N,"bytesTotal":N}
//	{"event":"chunk","chunkSize":N,"bytesAccepted":N,"bytesTotal":N}
//	{"event":"aborted","url":"...","bytesAccepted":N,"bytesSent":N}
//	{"event":"success","url":"...","status":N,"location":"..."}
//	{"event":"error","message":"...","status":N,"body":"..."}
//
// The scenario is one JSON object, in argv[2] or else on stdin:
//
//	module           folder holding node_modules/tus-js-client (required)
//	file             path of the file to upload (required); read through
//	                 the client's Node file reader (an fs.ReadStream)
//	endpoint         creation URL, e.g. http://127.0.0.1:PORT/api/files/uploads/
//	uploadUrl        resume this upload instead of creating one
//	headers          extra request headers (credentials)
//	metadata         Upload-Metadata pairs (filename, filetype, ...)
//	chunkSize        bytes per PATCH (default: the whole file)
//	parallelUploads  number of partial uploads (concatenation)
//	protocol         'tus-v1' (default), 'ietf-draft-03' or 'ietf-draft-05'
//	abortAt          call upload.abort() from the first onChunkComplete
//	                 whose bytesAccepted is at least this many bytes, then
//	                 print "aborted" and exit 0
//	abortAtSent      the same from the first onProgress whose bytesSent is
//	                 at least this many bytes: a PATCH cut midway
//	retryDelays      the client's retryDelays (default [], no retries)
//
// Retries are off by default so that a refusal from the server shows at
// once as an "error" line instead of being retried away. The
// exit status is 0 after "success" or "aborted", 1 after "error", 2 for a
// bad scenario.
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'

function emit(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`)
}

function readScenario() {
  if (process.argv.length > 2) {
    return JSON.parse(process.argv[2])
  }
  return JSON.parse(fs.readFileSync(0, 'utf8'))
}

let scenario
try {
  scenario = readScenario()
  if (!scenario.module || !scenario.file) {
    throw new Error('scenario needs "module" and "file"')
  }
} catch (err) {
  emit({ event: 'error', message: `bad scenario: ${err.message}` })
  process.exit(2)
}

// The client is installed at test time in a temporary folder, not next to
// this file, so it is loaded from there.
const require = createRequire(path.join(path.resolve(scenario.module), 'package.json'))
const tus = require('tus-js-client')
emit({ event: 'start', version: require('tus-js-client/package.json').version })

const options = {
  endpoint: scenario.endpoint ?? null,
  uploadUrl: scenario.uploadUrl ?? null,
  headers: scenario.headers ?? {},
  metadata: scenario.metadata ?? {},
  retryDelays: scenario.retryDelays ?? [],
  storeFingerprintForResuming: false,
  protocol: scenario.protocol ?? 'tus-v1',
}
if (scenario.chunkSize) {
  options.chunkSize = scenario.chunkSize
}
if (scenario.parallelUploads) {
  options.parallelUploads = scenario.parallelUploads
}

// Abort once, print what the server had acknowledged by then, and exit.
let accepted = 0
let aborting = false
function abort(bytesSent) {
  if (aborting) {
    return
  }
  aborting = true
  upload.abort().then(() => {
    emit({ event: 'aborted', url: upload.url, bytesAccepted: accepted, bytesSent })
    process.exit(0)
  })
}

const upload = new tus.Upload(fs.createReadStream(scenario.file), {
  ...options,
  onUploadUrlAvailable() {
    emit({ event: 'url', url: upload.url })
  },
  onProgress(bytesSent, bytesTotal) {
    emit({ event: 'progress', bytesSent, bytesTotal })
    if (scenario.abortAtSent && bytesSent >= scenario.abortAtSent) {
      abort(bytesSent)
    }
  },
  onChunkComplete(chunkSize, bytesAccepted, bytesTotal) {
    emit({ event: 'chunk', chunkSize, bytesAccepted, bytesTotal })
    accepted = bytesAccepted
    if (scenario.abortAt && bytesAccepted >= scenario.abortAt) {
      abort(bytesAccepted)
    }
  },
  onSuccess({ lastResponse }) {
    emit({
      event: 'success',
      url: upload.url,
      status: lastResponse?.getStatus() ?? 0,
      location: lastResponse?.getHeader('Location') ?? '',
    })
    process.exit(0)
  },
  onError(err) {
    const res = err.originalResponse
    emit({
      event: 'error',
      message: String(err.message ?? err),
      status: res ? res.getStatus() : 0,
      body: res ? res.getBody() : '',
    })
    process.exit(1)
  },
})
upload.start()
