package check

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
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
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

const (
	namespace = "doutok"
	gateway   = "api"
	// ingressApp is the Dapr app id of the NGINX ingress controller's sidecar.
	ingressApp = "nginx-ingress"
)

// callers is who invokes whom (Dapr service invocation): each app's access control must allow
// exactly these callers.
var callers = map[string][]string{
	"user":     {"api", "feed", "relation", "message"},
	"publish":  {"api", "favorite", "comment"},
	"feed":     {"api", "publish"},
	"favorite": {"api"},
	"comment":  {"api"},
	"relation": {"api"},
	"message":  {"api"},
	"api":      {ingressApp},
	ingressApp: nil,
}

// componentScopes are the Dapr components, their types and the apps that may use them.
var componentScopes = map[string]struct {
	Type   string
	Scopes []string
}{
	"statestore":  {"state.redis", []string{"api", "publish", "favorite", "comment", "relation", "message"}},
	"pubsub":      {"pubsub.kafka", []string{"publish", "feed", "favorite", "comment", "relation", "message"}},
	"media":       {"bindings.aws.s3", []string{"publish"}},
	"secretstore": {"secretstores.kubernetes", []string{"api"}},
}

var (
	autoscaled = setOf("api", "feed")       // HorizontalPodAutoscaler on CPU
	uploads    = setOf("api", "publish")    // uploads pass their sidecars: dapr.io/max-body-size
	opsPort    = int32(9091)                // OPS_ADDR: /metrics, /healthz, /readyz
	minBody    = resource.MustParse("64Mi") // MAX_UPLOAD_BYTES
)

func TestManifests(t *testing.T) {
	svcs := services(t)
	secretKeys := secrets(t)
	objs := render(t, "deploy/k8s")
	t.Logf("deploy/k8s renders %d resources:\n%s", len(objs), listing(objs))
	ix := indexOf(objs)
	apps := setOf(svcs...)

	for _, o := range objs {
		if o.Namespace != namespace {
			t.Errorf("%s/%s: namespace %q, want %q", o.Kind, o.Name, o.Namespace, namespace)
		}
	}
	// That deploy/Dockerfile has a stage per service is TestDockerfileBuildsEveryService's
	// (tools/devstack); here each service's image is named after its stage (checkService).
	if got, want := sortedKeys(all[*appsv1.Deployment](ix, "Deployment")), sorted(svcs); !slices.Equal(got, want) {
		t.Errorf("Deployments %v, want one per service %v", got, want)
	}
	if got, want := sortedKeys(callers), sorted(append(slices.Clone(svcs), ingressApp)); !slices.Equal(got, want) {
		t.Errorf("the test's call graph names %v, the services are %v (and %s): update callers", got, want, ingressApp)
	}

	for _, svc := range svcs {
		t.Run(svc, func(t *testing.T) { checkService(t, ix, svc, secretKeys) })
	}
	checkConfigurations(t, ix)
	checkComponents(t, ix, secretKeys)
	checkResiliency(t, ix, apps)
	checkServicesSelect(t, ix)
	checkRBAC(t, ix)
	checkIngress(t, ix)
	checkIngressValues(t, ix)
}

// TestIngressKustomization renders deploy/ingress alone (it is also part of deploy/k8s).
func TestIngressKustomization(t *testing.T) {
	objs := render(t, "deploy/ingress")
	t.Logf("deploy/ingress renders %d resources:\n%s", len(objs), listing(objs))
	ix := indexOf(objs)
	if _, ok := get[*networkingv1.Ingress](ix, "Ingress", "doutok"); !ok {
		t.Error("deploy/ingress: no Ingress doutok")
	}
	if _, ok := get[*confv1.Configuration](ix, "Configuration", ingressApp+"-config"); !ok {
		t.Errorf("deploy/ingress: no Configuration %s-config", ingressApp)
	}
}

func checkService(t *testing.T, ix index, svc string, secretKeys map[string]map[string]bool) {
	d, ok := get[*appsv1.Deployment](ix, "Deployment", svc)
	if !ok {
		t.Fatalf("no Deployment %s", svc)
	}
	pod := d.Spec.Template
	if _, ok := get[*corev1.Service](ix, "Service", svc); !ok {
		t.Errorf("no Service %s", svc)
	}

	// Replicas: 2, or an autoscaler from 2 up that owns the count.
	hpa, hasHPA := get[*autoscalingv2.HorizontalPodAutoscaler](ix, "HorizontalPodAutoscaler", svc)
	switch {
	case autoscaled[svc] && !hasHPA:
		t.Errorf("no HorizontalPodAutoscaler %s", svc)
	case !autoscaled[svc] && hasHPA:
		t.Errorf("HorizontalPodAutoscaler %s is not expected", svc)
	case hasHPA:
		checkHPA(t, hpa, d)
		if d.Spec.Replicas != nil {
			t.Errorf("replicas set to %d: the autoscaler owns the count", *d.Spec.Replicas)
		}
	default:
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
			t.Errorf("replicas %v, want 2", d.Spec.Replicas)
		}
	}
	pdb, ok := get[*policyv1.PodDisruptionBudget](ix, "PodDisruptionBudget", svc)
	if !ok {
		t.Errorf("no PodDisruptionBudget %s", svc)
	} else if !selects(pdb.Spec.Selector.MatchLabels, pod.Labels) || len(pdb.Spec.Selector.MatchExpressions) > 0 {
		t.Errorf("PodDisruptionBudget %s selects %v, not the pods %v", svc, pdb.Spec.Selector.MatchLabels, pod.Labels)
	}
	if !selects(d.Spec.Selector.MatchLabels, pod.Labels) {
		t.Errorf("selector %v does not match the pod labels %v", d.Spec.Selector.MatchLabels, pod.Labels)
	}

	// The Dapr sidecar.
	a := pod.Annotations
	appPort := "8000"
	if svc == gateway {
		appPort = "8080"
	}
	want := map[string]string{
		"dapr.io/enabled":                 "true",
		"dapr.io/app-id":                  svc,
		"dapr.io/app-port":                appPort,
		"dapr.io/app-protocol":            "http",
		"dapr.io/config":                  svc + "-config",
		"dapr.io/enable-app-health-check": "true",
		"dapr.io/app-health-check-path":   "/healthz",
		"dapr.io/log-as-json":             "true",
		"dapr.io/enable-metrics":          "true",
		"dapr.io/metrics-port":            "9090",
		"prometheus.io/scrape":            "true",
		"prometheus.io/port":              fmt.Sprint(opsPort),
		"prometheus.io/path":              "/metrics",
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, a[k], v)
		}
	}
	for _, k := range []string{"dapr.io/app-health-probe-interval", "dapr.io/app-health-probe-timeout", "dapr.io/app-health-threshold"} {
		if !regexp.MustCompile(`^[1-9][0-9]*$`).MatchString(a[k]) {
			t.Errorf("annotation %s = %q, want a positive number", k, a[k])
		}
	}
	checkDaprAnnotations(t, "Deployment "+svc, a)
	for _, k := range []string{"dapr.io/app-token-secret", "dapr.io/api-token-secret"} {
		if !secretKeys[a[k]]["token"] {
			t.Errorf("%s names Secret %q with key token, which make-secrets.sh does not create", k, a[k])
		}
	}
	if uploads[svc] {
		if !roomForUploads(a["dapr.io/max-body-size"]) {
			t.Errorf("dapr.io/max-body-size = %q, want at least 128Mi (uploads of 64 MiB)", a["dapr.io/max-body-size"])
		}
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	if m := a["dapr.io/volume-mounts"]; m != "" {
		for _, pair := range strings.Split(m, ",") {
			name, _, _ := strings.Cut(pair, ":")
			if _, ok := volumes[name]; !ok {
				t.Errorf("dapr.io/volume-mounts names volume %q, which the pod lacks", name)
			}
		}
	}

	// The pod and its one container.
	ps := pod.Spec.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot {
		t.Error("pod securityContext: runAsNonRoot is not true")
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want the app alone (the injector adds the sidecar)", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	if want := "ghcr.io/doutok/" + svc; !strings.HasPrefix(c.Image, want+":") && !strings.HasPrefix(c.Image, want+"@") {
		t.Errorf("image %q, want %s:<tag> (deploy/Dockerfile target %s)", c.Image, want, svc)
	}
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Error("container has no securityContext")
	default:
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Error("allowPrivilegeEscalation is not false")
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Error("readOnlyRootFilesystem is not true")
		}
		if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
			t.Error("capabilities: want drop [ALL], no add")
		}
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if c.Resources.Requests.Name(r, resource.DecimalSI).IsZero() || c.Resources.Limits.Name(r, resource.DecimalSI).IsZero() {
			t.Errorf("resources: %s needs a request and a limit", r)
		}
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
		if _, ok := volumes[m.Name]; !ok {
			t.Errorf("volumeMount %s names volume %q, which the pod lacks", m.MountPath, m.Name)
		}
	}
	if v, ok := volumes[mounts["/tmp"]]; !ok || v.EmptyDir == nil {
		t.Error("/tmp is not an emptyDir")
	}

	// Ports and probes.
	ports, numbers := declaredPorts(c)
	if !numbers[opsPort] {
		t.Errorf("the container does not declare the ops port %d", opsPort)
	}
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", name)
			continue
		}
		port, ok := containerPort(p.HTTPGet.Port, ports, numbers)
		if !ok || port != opsPort {
			t.Errorf("%s probe on port %s: want the declared ops port %d", name, p.HTTPGet.Port.String(), opsPort)
		}
		if p.HTTPGet.Path != "/healthz" && p.HTTPGet.Path != "/readyz" {
			t.Errorf("%s probe on %s: want /healthz or /readyz", name, p.HTTPGet.Path)
		}
	}
	if c.StartupProbe != nil && c.StartupProbe.HTTPGet != nil && c.StartupProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("startup probe on %s, want /readyz (migrations done, dependencies reached)", c.StartupProbe.HTTPGet.Path)
	}

	// The environment.
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			t.Errorf("env %s set twice", e.Name)
		}
		env[e.Name] = e
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			if !secretKeys[ref.Name][ref.Key] {
				t.Errorf("env %s reads Secret %s key %s, which make-secrets.sh does not create", e.Name, ref.Name, ref.Key)
			}
		}
	}
	fromConfigMaps := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			t.Errorf("envFrom other than a ConfigMap")
			continue
		}
		cm, ok := get[*corev1.ConfigMap](ix, "ConfigMap", ef.ConfigMapRef.Name)
		if !ok {
			t.Errorf("envFrom names ConfigMap %q, which is not rendered", ef.ConfigMapRef.Name)
			continue
		}
		maps.Copy(fromConfigMaps, cm.Data)
	}
	has := func(name string) bool { _, ok := env[name]; _, ok2 := fromConfigMaps[name]; return ok || ok2 }
	secretEnv := func(name string) {
		if e, ok := env[name]; !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("env %s does not come from a Secret", name)
		}
	}
	secretEnv("DAPR_API_TOKEN")
	secretEnv("APP_API_TOKEN")
	if env["OPS_ADDR"].Value != fmt.Sprintf(":%d", opsPort) {
		t.Errorf("OPS_ADDR = %q, want :%d", env["OPS_ADDR"].Value, opsPort)
	}
	if e := env["APP_API_TOKEN"]; e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name != a["dapr.io/app-token-secret"] {
		t.Errorf("APP_API_TOKEN from Secret %s, the sidecar's app token from %s", e.ValueFrom.SecretKeyRef.Name, a["dapr.io/app-token-secret"])
	}
	if e := env["DAPR_API_TOKEN"]; e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name != a["dapr.io/api-token-secret"] {
		t.Errorf("DAPR_API_TOKEN from Secret %s, the sidecar's API token from %s", e.ValueFrom.SecretKeyRef.Name, a["dapr.io/api-token-secret"])
	}
	if has("LOG_FORMAT") {
		t.Error("LOG_FORMAT is set: leave it unset for JSON lines")
	}
	if svc == gateway {
		for _, k := range []string{"PUBLIC_ADDR", "PUBLIC_BASE_URL", "PUBLIC_MEDIA_BASE_URL", "TRUSTED_PROXIES", "UPLOAD_TMP_DIR"} {
			if !has(k) {
				t.Errorf("the gateway lacks %s", k)
			}
		}
		if addr := fromConfigMaps["PUBLIC_ADDR"]; addr != "127.0.0.1:"+appPort {
			t.Errorf("PUBLIC_ADDR = %q, want 127.0.0.1:%s (the sidecar's app port, loopback)", addr, appPort)
		}
		proxies := strings.Split(fromConfigMaps["TRUSTED_PROXIES"], ",")
		for _, p := range []string{"127.0.0.1/32", "::1/128"} {
			if !slices.Contains(proxies, p) {
				t.Errorf("TRUSTED_PROXIES %v lacks %s (the sidecar)", proxies, p)
			}
		}
		if !strings.HasPrefix(fromConfigMaps["PUBLIC_BASE_URL"], "https://") {
			t.Errorf("PUBLIC_BASE_URL %q is not https", fromConfigMaps["PUBLIC_BASE_URL"])
		}
	} else {
		if env["APP_PORT"].Value != appPort {
			t.Errorf("APP_PORT = %q, want %s (= dapr.io/app-port)", env["APP_PORT"].Value, appPort)
		}
		secretEnv("DATABASE_URL")
	}
	if e, ok := env["UPLOAD_TMP_DIR"]; ok {
		if v, ok := volumes[mounts[e.Value]]; !ok || v.EmptyDir == nil {
			t.Errorf("UPLOAD_TMP_DIR %s is not an emptyDir mount", e.Value)
		}
	}
	if svc == "publish" {
		// The media binding streams the stored file from its path: the sidecar must see it.
		dir := env["UPLOAD_TMP_DIR"].Value
		if dir == "" || !strings.Contains(a["dapr.io/volume-mounts"]+a["dapr.io/volume-mounts-rw"], mounts[dir]+":"+dir) {
			t.Errorf("publish's sidecar does not mount UPLOAD_TMP_DIR (%q) at the same path", dir)
		}
	}
	if sa := pod.Spec.ServiceAccountName; sa != "" {
		if _, ok := get[*corev1.ServiceAccount](ix, "ServiceAccount", sa); !ok {
			t.Errorf("serviceAccountName %q is not rendered", sa)
		}
	}
}

func checkHPA(t *testing.T, hpa *autoscalingv2.HorizontalPodAutoscaler, d *appsv1.Deployment) {
	ref := hpa.Spec.ScaleTargetRef
	if ref.Kind != "Deployment" || ref.Name != d.Name || ref.APIVersion != "apps/v1" {
		t.Errorf("HorizontalPodAutoscaler targets %s %s %s", ref.APIVersion, ref.Kind, ref.Name)
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
		t.Errorf("HorizontalPodAutoscaler replicas %v..%d, want from 2 up", hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	}
	cpu := false
	for _, m := range hpa.Spec.Metrics {
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU:
			cpu = true
		case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil && m.ContainerResource.Name == corev1.ResourceCPU:
			cpu = true
			if !slices.ContainsFunc(d.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == m.ContainerResource.Container }) {
				t.Errorf("HorizontalPodAutoscaler measures container %q, which the Deployment lacks", m.ContainerResource.Container)
			}
		}
	}
	if !cpu {
		t.Error("HorizontalPodAutoscaler does not scale on CPU")
	}
}

func checkDaprAnnotations(t *testing.T, where string, a map[string]string) {
	t.Helper()
	for k := range a {
		if strings.HasPrefix(k, "dapr.io/") && !daprAnnotations[k] {
			t.Errorf("%s: %s is not an annotation of Dapr's sidecar injector", where, k)
		}
	}
}

// checkConfigurations: one Configuration per app (and the ingress controller), denying by
// default and allowing exactly the app's callers; tracing and metrics in each.
func checkConfigurations(t *testing.T, ix index) {
	confs := all[*confv1.Configuration](ix, "Configuration")
	var want []string
	for app := range callers {
		want = append(want, app+"-config")
	}
	if got := sortedKeys(confs); !slices.Equal(got, sorted(want)) {
		t.Errorf("Configurations %v, want %v", got, sorted(want))
	}
	for app, who := range callers {
		c, ok := confs[app+"-config"]
		if !ok {
			continue
		}
		ac := c.Spec.AccessControlSpec
		if ac == nil || ac.DefaultAction != "deny" || ac.TrustDomain != "public" {
			t.Errorf("Configuration %s: access control must deny by default (trust domain public)", c.Name)
			continue
		}
		var got []string
		for _, p := range ac.AppPolicies {
			if p.DefaultAction != "allow" || p.TrustDomain != "public" || p.Namespace != namespace {
				t.Errorf("Configuration %s: policy for %s: want allow, trust domain public, namespace %s", c.Name, p.AppName, namespace)
			}
			got = append(got, p.AppName)
		}
		if !slices.Equal(sorted(got), sorted(who)) {
			t.Errorf("Configuration %s: callers %v, want %v", c.Name, sorted(got), sorted(who))
		}
		tr := c.Spec.TracingSpec
		if tr == nil || tr.SamplingRate != "1" || tr.Zipkin == nil || !strings.HasPrefix(tr.Zipkin.EndpointAddresss, "http") {
			t.Errorf("Configuration %s: tracing (sampling 1, a Zipkin endpoint) missing", c.Name)
		}
		m := c.Spec.MetricsSpec // "metrics"; daprd also reads the older "metric"
		if m == nil {
			m = c.Spec.MetricSpec
		}
		if m == nil || m.Enabled == nil || !*m.Enabled {
			t.Errorf("Configuration %s: metrics not enabled", c.Name)
		}
		if s := c.Spec.Secrets; s != nil {
			for _, sc := range s.Scopes {
				if _, ok := get[*compv1.Component](ix, "Component", sc.StoreName); !ok && sc.StoreName != "kubernetes" {
					t.Errorf("Configuration %s: secret scope for unknown store %q", c.Name, sc.StoreName)
				}
			}
		}
	}
}

func checkComponents(t *testing.T, ix index, secretKeys map[string]map[string]bool) {
	comps := all[*compv1.Component](ix, "Component")
	if got, want := sortedKeys(comps), sortedKeys(componentScopes); !slices.Equal(got, want) {
		t.Errorf("Components %v, want %v", got, want)
	}
	for name, c := range comps {
		w := componentScopes[name]
		if c.Spec.Type != w.Type || c.Spec.Version != "v1" {
			t.Errorf("Component %s: type %s %s, want %s v1", name, c.Spec.Type, c.Spec.Version, w.Type)
		}
		if !slices.Equal(sorted(c.Scopes), sorted(w.Scopes)) {
			t.Errorf("Component %s: scopes %v, want %v", name, sorted(c.Scopes), sorted(w.Scopes))
		}
		meta := map[string]string{}
		refs := 0
		for _, m := range c.Spec.Metadata {
			if m.EnvRef != "" {
				t.Errorf("Component %s: %s uses envRef (local runs only)", name, m.Name)
			}
			if ref := m.SecretKeyRef; ref.Name != "" {
				refs++
				if !secretKeys[ref.Name][ref.Key] {
					t.Errorf("Component %s: %s reads Secret %s key %s, which make-secrets.sh does not create", name, m.Name, ref.Name, ref.Key)
				}
				continue
			}
			meta[m.Name] = m.Value.String()
		}
		if refs > 0 && c.Auth.SecretStore != "kubernetes" {
			t.Errorf("Component %s: secretKeyRefs need auth.secretStore kubernetes, have %q", name, c.Auth.SecretStore)
		}
		if name == "pubsub" {
			if meta["producerRequiredAcks"] != "all" || meta["initialOffset"] != "oldest" {
				t.Errorf("Component pubsub: want producerRequiredAcks all and initialOffset oldest, have %v", meta)
			}
			if meta["consumerGroup"] != "" {
				t.Error("Component pubsub: consumerGroup set (each app id must be its own group)")
			}
		}
	}
}

// checkResiliency: the local policy (components/common/resiliency.yaml), scoped to the apps.
func checkResiliency(t *testing.T, ix index, apps map[string]bool) {
	res := all[*resv1.Resiliency](ix, "Resiliency")
	if len(res) != 1 {
		t.Fatalf("%d Resiliency resources, want 1", len(res))
	}
	// Decoded strictly like the manifests: a field Dapr's type lacks would be dropped by daprd
	// without a word, and refused by the Kubernetes API.
	var local resv1.Resiliency
	if err := strictUnmarshal([]byte(readRepo(t, "components/common/resiliency.yaml")), &local); err != nil {
		t.Fatalf("components/common/resiliency.yaml: %v", err)
	}
	for _, r := range res {
		if !reflect.DeepEqual(r.Spec, local.Spec) {
			t.Errorf("Resiliency %s differs from components/common/resiliency.yaml", r.Name)
		}
		if len(r.Scopes) == 0 {
			t.Errorf("Resiliency %s is not scoped", r.Name)
		}
		for _, s := range r.Scopes {
			if !apps[s] {
				t.Errorf("Resiliency %s: scope %q is not an app", r.Name, s)
			}
		}
	}
}

// checkServicesSelect: every Service selects the pods of exactly one Deployment, on ports their
// container declares.
func checkServicesSelect(t *testing.T, ix index) {
	deployments := all[*appsv1.Deployment](ix, "Deployment")
	for name, s := range all[*corev1.Service](ix, "Service") {
		var matched []*appsv1.Deployment
		for _, d := range deployments {
			if selects(s.Spec.Selector, d.Spec.Template.Labels) {
				matched = append(matched, d)
			}
		}
		if len(matched) != 1 {
			t.Errorf("Service %s selects %d Deployments, want 1", name, len(matched))
			continue
		}
		ports, numbers := declaredPorts(matched[0].Spec.Template.Spec.Containers...)
		for _, p := range s.Spec.Ports {
			target := p.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(p.Port)
			}
			if _, ok := containerPort(target, ports, numbers); !ok {
				t.Errorf("Service %s: port %s targets %s, which Deployment %s does not declare", name, p.Name, target.String(), matched[0].Name)
			}
		}
	}
}

func checkRBAC(t *testing.T, ix index) {
	for name, b := range all[*rbacv1.RoleBinding](ix, "RoleBinding") {
		if _, ok := get[*rbacv1.Role](ix, "Role", b.RoleRef.Name); b.RoleRef.Kind != "Role" || !ok {
			t.Errorf("RoleBinding %s: role %s %s is not rendered", name, b.RoleRef.Kind, b.RoleRef.Name)
		}
		for _, s := range b.Subjects {
			if _, ok := get[*corev1.ServiceAccount](ix, "ServiceAccount", s.Name); s.Kind != "ServiceAccount" || !ok {
				t.Errorf("RoleBinding %s: subject %s %s is not rendered", name, s.Kind, s.Name)
			}
		}
	}
}

// checkIngress: every path goes to the ingress controller's sidecar (the Dapr-made Service
// nginx-ingress-dapr, port 80) rewritten to an invocation of the gateway; uploads fit.
func checkIngress(t *testing.T, ix index) {
	ings := all[*networkingv1.Ingress](ix, "Ingress")
	if len(ings) != 1 {
		t.Fatalf("%d Ingresses, want 1", len(ings))
	}
	for name, ing := range ings {
		a := ing.Annotations
		if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" {
			t.Errorf("Ingress %s: ingressClassName is not nginx", name)
		}
		if q, err := resource.ParseQuantity(strings.ToUpper(strings.TrimSuffix(a["nginx.ingress.kubernetes.io/proxy-body-size"], "m")) + "Mi"); err != nil || q.Cmp(minBody) < 0 {
			t.Errorf("Ingress %s: proxy-body-size %q, want at least 64m", name, a["nginx.ingress.kubernetes.io/proxy-body-size"])
		}
		var timeout int
		if _, err := fmt.Sscan(a["nginx.ingress.kubernetes.io/proxy-read-timeout"], &timeout); err != nil || timeout < 600 {
			t.Errorf("Ingress %s: proxy-read-timeout %q, want at least 600 s (an upload's transfer and processing)", name, a["nginx.ingress.kubernetes.io/proxy-read-timeout"])
		}
		target := a["nginx.ingress.kubernetes.io/rewrite-target"]
		if !strings.HasPrefix(target, "/v1.0/invoke/"+gateway+"/method/") || a["nginx.ingress.kubernetes.io/use-regex"] != "true" {
			t.Errorf("Ingress %s: rewrite-target %q (use-regex %q): want /v1.0/invoke/%s/method/... with regex paths", name, target, a["nginx.ingress.kubernetes.io/use-regex"], gateway)
		}
		var patterns []*regexp.Regexp
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				b := p.Backend.Service
				if b == nil || b.Name != ingressApp+"-dapr" || b.Port.Number != 80 {
					t.Errorf("Ingress %s: path %s does not go to %s-dapr port 80", name, p.Path, ingressApp)
				}
				// ingress-nginx makes each regex path a case-insensitive location matched at the
				// start of the URI.
				re, err := regexp.Compile("(?i)^" + p.Path)
				if err != nil {
					t.Errorf("Ingress %s: path %s: %v", name, p.Path, err)
					continue
				}
				patterns = append(patterns, re)
			}
		}
		// Each of the gateway's public paths reaches it unchanged after the rewrite.
		for _, path := range []string{"/douyin/feed/", "/douyin/publish/action/", "/media/v/1.mp4", "/static/avatar.jpg", "/", "/assets/index.js"} {
			var rewritten string
			for _, re := range patterns {
				if m := re.FindStringSubmatchIndex(path); m != nil {
					rewritten = string(re.ExpandString(nil, target, path, m))
					break
				}
			}
			if want := "/v1.0/invoke/" + gateway + "/method" + path; rewritten != want {
				t.Errorf("Ingress %s: %s is rewritten to %q, want %q", name, path, rewritten, want)
			}
		}
	}
}

// checkIngressValues: the ingress-nginx chart's values give the controller pods a Dapr sidecar
// (app id nginx-ingress) with its Configuration, on the controller's port.
func checkIngressValues(t *testing.T, ix index) {
	var values struct {
		Controller struct {
			PodAnnotations map[string]string `json:"podAnnotations"`
		} `json:"controller"`
	}
	if err := yaml.Unmarshal([]byte(readRepo(t, "deploy/ingress/ingress-nginx-values.yaml")), &values); err != nil {
		t.Fatalf("ingress-nginx-values.yaml: %v", err)
	}
	a := values.Controller.PodAnnotations
	checkDaprAnnotations(t, "ingress-nginx-values.yaml", a)
	for k, v := range map[string]string{
		"dapr.io/enabled":      "true",
		"dapr.io/app-id":       ingressApp,
		"dapr.io/app-port":     "80",
		"dapr.io/app-protocol": "http",
		"dapr.io/config":       ingressApp + "-config",
		// Its sidecar listens on the pod's address: no secrets from it (see also its API
		// allowlist below).
		"dapr.io/disable-builtin-k8s-secret-store": "true",
	} {
		if a[k] != v {
			t.Errorf("ingress-nginx-values.yaml: controller.podAnnotations %s = %q, want %q", k, a[k], v)
		}
	}
	if c, ok := get[*confv1.Configuration](ix, "Configuration", a["dapr.io/config"]); !ok {
		t.Errorf("ingress-nginx-values.yaml: dapr.io/config %q is not rendered", a["dapr.io/config"])
	} else if api := c.Spec.APISpec; api == nil || len(api.Allowed) != 1 || api.Allowed[0].Name != "invoke" || api.Allowed[0].Protocol != "http" {
		t.Errorf("Configuration %s: its sidecar listens on the pod's address, so it must allow the HTTP invoke API alone, allows %+v", c.Name, api)
	}
	if !roomForUploads(a["dapr.io/max-body-size"]) {
		t.Errorf("ingress-nginx-values.yaml: dapr.io/max-body-size %q, want at least 128Mi", a["dapr.io/max-body-size"])
	}
}

// selects reports whether selector (matchLabels) matches labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// declaredPorts are the ports the containers declare, by name and by number.
func declaredPorts(containers ...corev1.Container) (byName map[string]int32, numbers map[int32]bool) {
	byName, numbers = map[string]int32{}, map[int32]bool{}
	for _, c := range containers {
		for _, p := range c.Ports {
			byName[p.Name] = p.ContainerPort
			numbers[p.ContainerPort] = true
		}
	}
	return byName, numbers
}

// roomForUploads tells whether a sidecar's dapr.io/max-body-size takes a 64 MiB upload in one
// request (the invocation, the media binding): 128Mi or more.
func roomForUploads(size string) bool {
	q, err := resource.ParseQuantity(size)
	return err == nil && q.Cmp(resource.MustParse("128Mi")) >= 0
}

// containerPort resolves a probe's or Service's port (a name or a number) among the container's
// declared ports.
func containerPort(p intstr.IntOrString, byName map[string]int32, numbers map[int32]bool) (int32, bool) {
	if p.Type == intstr.String {
		n, ok := byName[p.StrVal]
		return n, ok
	}
	return p.IntVal, numbers[p.IntVal]
}

func sorted(xs []string) []string {
	out := slices.Clone(xs)
	sort.Strings(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
