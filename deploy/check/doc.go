// Package check renders the Kubernetes manifests of deploy/k8s and deploy/ingress with
// kustomize's Go API and checks them: every object decodes strictly into its Kubernetes or Dapr
// type, and the references between them (services, Dapr apps and annotations, Configurations,
// components, Secrets, ports, images) hold. A module of its own, so that Kubernetes and Dapr stay
// out of the services' go.mod. Run `go test ./...` here; no cluster and no kubectl needed.
package check
