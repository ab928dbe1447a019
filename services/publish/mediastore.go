package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/doutok/doutok/services/internal/apperr"
	"github.com/doutok/doutok/services/internal/daprc"
)

// mediaStore writes uploaded videos and covers through the media output binding, whichever
// component the deployment configures under that name.
//
// Most bindings take the object in the request, so the whole file crosses the sidecar in memory
// (with copies of it inside daprd). bindings.aws.s3 can instead open a file by path (the filePath
// metadata) and stream it to the bucket in parts, keeping the sidecar's memory flat whatever the
// size. That needs the sidecar to see the app's upload folder
// (UPLOAD_TMP_DIR): the same machine locally, a shared volume in a Kubernetes pod. The binding's
// type is read once from the sidecar's metadata, so swapping the component YAML is all it takes
// to switch paths.
type mediaStore struct {
	sdk dapr.Client

	mu         sync.Mutex
	known      bool // componentType has been read
	streamable bool // the binding reads filePath
}

// bindingsReadingFilePath are the media binding types that stream a file the sidecar can open.
var bindingsReadingFilePath = map[string]bool{"bindings.aws.s3": true}

// put stores the file at path under key with its content type (kept by object stores, which
// serve the object with it).
func (m *mediaStore) put(ctx context.Context, path, key, contentType string) error {
	streamable, err := m.readsFilePath(ctx)
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, err)
	}
	metadata := map[string]string{"fileName": key, "key": key, "Content-Type": contentType}
	var data []byte
	if streamable {
		metadata["filePath"] = path
	} else {
		// The bytes as they are: base64 would add a third to the message and copies of it in
		// daprd (a 62 MiB video peaked publish's sidecar at 513 MiB). localstorage decodes data
		// that reads as a quoted string or as base64; what is stored never does: an MP4 begins
		// with its first box's size (00 00 00 ..) and a JPEG with FF D8, bytes neither may hold.
		if data, err = os.ReadFile(path); err != nil {
			return err
		}
	}
	err = m.sdk.InvokeOutputBinding(ctx, &dapr.InvokeBindingRequest{Name: daprc.Media, Operation: "create", Data: data, Metadata: metadata})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, errors.Join(errors.New("store "+key+" in the media binding"), err))
	}
	return nil
}

// readsFilePath tells whether the configured media binding streams a file by path. The answer is
// kept once read; a failed read is tried again at the next upload.
func (m *mediaStore) readsFilePath(ctx context.Context) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.known {
		return m.streamable, nil
	}
	meta, err := m.sdk.GetMetadata(ctx)
	if err != nil {
		return false, fmt.Errorf("read the sidecar's components: %w", err)
	}
	for _, c := range meta.RegisteredComponents {
		if c.Name == daprc.Media {
			m.known, m.streamable = true, bindingsReadingFilePath[c.Type]
			return m.streamable, nil
		}
	}
	return false, fmt.Errorf("the sidecar has no %q binding", daprc.Media)
}
