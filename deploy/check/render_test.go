package check

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	compv1 "github.com/dapr/dapr/pkg/apis/components/v1alpha1"
	confv1 "github.com/dapr/dapr/pkg/apis/configuration/v1alpha1"
	resv1 "github.com/dapr/dapr/pkg/apis/resiliency/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// repoRoot is the repository's root, seen from this folder (deploy/check).
const repoRoot = "../.."

// object is one rendered resource, decoded into its Go type.
type object struct {
	Kind, Name, Namespace string
	Value                 any // *appsv1.Deployment, *compv1.Component, ...
}

// kinds are the kinds the manifests may hold, by apiVersion and kind, each with a constructor of
// its Go type. Anything else is an error.
var kinds = map[string]func() any{
	"apps/v1/Deployment":                       func() any { return new(appsv1.Deployment) },
	"v1/Service":                               func() any { return new(corev1.Service) },
	"v1/ConfigMap":                             func() any { return new(corev1.ConfigMap) },
	"v1/ServiceAccount":                        func() any { return new(corev1.ServiceAccount) },
	"policy/v1/PodDisruptionBudget":            func() any { return new(policyv1.PodDisruptionBudget) },
	"autoscaling/v2/HorizontalPodAutoscaler":   func() any { return new(autoscalingv2.HorizontalPodAutoscaler) },
	"rbac.authorization.k8s.io/v1/Role":        func() any { return new(rbacv1.Role) },
	"rbac.authorization.k8s.io/v1/RoleBinding": func() any { return new(rbacv1.RoleBinding) },
	"networking.k8s.io/v1/Ingress":             func() any { return new(networkingv1.Ingress) },
	"dapr.io/v1alpha1/Component":               func() any { return new(compv1.Component) },
	"dapr.io/v1alpha1/Configuration":           func() any { return new(confv1.Configuration) },
	"dapr.io/v1alpha1/Resiliency":              func() any { return new(resv1.Resiliency) },
}

// render builds the kustomization in dir (relative to the repository's root) and decodes every
// resource strictly.
func render(t *testing.T, dir string) []object {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(repoRoot, dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out []object
	for _, r := range resources.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatalf("%s: %s: %v", dir, r.CurId(), err)
		}
		o, err := decode(y)
		if err != nil {
			t.Errorf("%s: %s: %v", dir, r.CurId(), err)
			continue
		}
		out = append(out, o)
	}
	return out
}

// decode decodes one YAML document strictly into the Go type of its kind: an unknown kind or an
// unknown field is an error.
func decode(doc []byte) (object, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name, Namespace string
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return object{}, err
	}
	newValue, ok := kinds[head.APIVersion+"/"+head.Kind]
	if !ok {
		return object{}, fmt.Errorf("unknown kind %s %s", head.APIVersion, head.Kind)
	}
	v := newValue()
	if err := strictUnmarshal(doc, v); err != nil {
		return object{}, fmt.Errorf("%s %s: %w", head.Kind, head.Metadata.Name, err)
	}
	return object{Kind: head.Kind, Name: head.Metadata.Name, Namespace: head.Metadata.Namespace, Value: v}, nil
}

// strictUnmarshal converts YAML to JSON and decodes it with unknown fields refused (the JSON
// tags of the Kubernetes and Dapr types are what their API servers and daprd read).
func strictUnmarshal(doc []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

// index holds rendered objects by kind and name.
type index map[string]map[string]object

func indexOf(objs []object) index {
	ix := index{}
	for _, o := range objs {
		if ix[o.Kind] == nil {
			ix[o.Kind] = map[string]object{}
		}
		ix[o.Kind][o.Name] = o
	}
	return ix
}

func get[T any](ix index, kind, name string) (T, bool) {
	o, ok := ix[kind][name]
	if !ok {
		var zero T
		return zero, false
	}
	return o.Value.(T), true
}

func all[T any](ix index, kind string) map[string]T {
	out := map[string]T{}
	for name, o := range ix[kind] {
		out[name] = o.Value.(T)
	}
	return out
}

// listing is the rendered resource list, one "Kind/name" a line, in render order.
func listing(objs []object) string {
	var b strings.Builder
	for _, o := range objs {
		fmt.Fprintf(&b, "%s/%s\n", o.Kind, o.Name)
	}
	return b.String()
}
