//go:build cloud

package main

// With the cloud build tag the server also opens Google Cloud Storage
// (gs://) and Azure Blob Storage (azblob://) buckets:
//
//	go run -tags cloud ./examples/server -blob 'gs://my-bucket' ...
//
// They are behind a tag so that the first, untagged `go run` does not
// download and compile both SDKs. Credentials come from each SDK's usual
// places (Application Default Credentials; AZURE_STORAGE_ACCOUNT and its
// key or a managed identity).
import (
	_ "gocloud.dev/blob/azureblob"
	_ "gocloud.dev/blob/gcsblob"
)
