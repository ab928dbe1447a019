// Command daprd is the Dapr sidecar runtime pinned for this project.
//
// It is Dapr's own daprd built with the stable component set, plus the sqlite name resolver, which
// the stable set leaves out. The local run uses sqlite name resolution instead of Dapr's default
// mDNS, because mDNS multicasts on every network interface and the project sends no traffic off
// the machine.
package main

import (
	"github.com/dapr/components-contrib/nameresolution/sqlite"
	"github.com/dapr/dapr/cmd/daprd/app"
	nrLoader "github.com/dapr/dapr/pkg/components/nameresolution"
)

func init() {
	nrLoader.DefaultRegistry.RegisterComponent(sqlite.NewResolver, "sqlite")
}

func main() {
	app.Run()
}
