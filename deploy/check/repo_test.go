package check

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/dapr/dapr/pkg/injector/annotations"

	"github.com/doutok/doutok/tools/devstack"
)

// services are the apps of the system: the local orchestrator's list (devstack.Services), so a
// service added there without manifests fails the test.
func services(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, svc := range devstack.Services {
		out = append(out, svc.Name)
	}
	return out
}

// secrets are the Secrets deploy/k8s/make-secrets.sh creates: name → data keys. It names them in
// calls of random_secret NAME KEY and apply_secret NAME --from-literal=KEY=VALUE...
func secrets(t *testing.T) map[string]map[string]bool {
	t.Helper()
	src := readRepo(t, "deploy/k8s/make-secrets.sh")
	out := map[string]map[string]bool{}
	add := func(name, key string) {
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		out[name][key] = true
	}
	for _, m := range regexp.MustCompile(`(?m)^random_secret ([a-z0-9-]+) ([A-Za-z0-9._-]+)$`).FindAllStringSubmatch(src, -1) {
		add(m[1], m[2])
	}
	literal := regexp.MustCompile(`--from-literal=([A-Za-z0-9._-]+)=`)
	for _, m := range regexp.MustCompile(`(?m)^apply_secret ([a-z0-9-]+) (.*)$`).FindAllStringSubmatch(src, -1) {
		for _, l := range literal.FindAllStringSubmatch(m[2], -1) {
			add(m[1], l[1])
		}
	}
	if len(out) == 0 {
		t.Fatal("make-secrets.sh creates no secret")
	}
	return out
}

func readRepo(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// daprAnnotations are the pod annotations Dapr's sidecar injector reads (v1.18.2,
// pkg/injector/annotations): every dapr.io/ key of the manifests must be one of them.
var daprAnnotations = setOf(
	annotations.KeyEnabled, annotations.KeyAppPort, annotations.KeyConfig,
	annotations.KeyAppProtocol, annotations.KeyAppSSL, annotations.KeyAppID,
	annotations.KeyEnableProfiling, annotations.KeyLogLevel, annotations.KeyAPITokenSecret,
	annotations.KeyAppTokenSecret, annotations.KeyLogAsJSON, annotations.KeyAppMaxConcurrency,
	annotations.KeyEnableMetrics, annotations.KeyMetricsPort, annotations.KeyEnableDebug,
	annotations.KeyDebugPort, annotations.KeyEnv, annotations.KeyEnvFromSecret,
	annotations.KeyAPIGRPCPort, annotations.KeyInternalGRPCPort, annotations.KeyCPURequest,
	annotations.KeyCPULimit, annotations.KeyMemoryRequest, annotations.KeyMemoryLimit,
	annotations.KeySidecarListenAddresses, annotations.KeyLivenessProbeDelaySeconds,
	annotations.KeyLivenessProbeTimeoutSeconds, annotations.KeyLivenessProbePeriodSeconds,
	annotations.KeyLivenessProbeThreshold, annotations.KeyReadinessProbeDelaySeconds,
	annotations.KeyReadinessProbeTimeoutSeconds, annotations.KeyReadinessProbePeriodSeconds,
	annotations.KeyReadinessProbeThreshold, annotations.KeySidecarImage,
	annotations.KeySidecarSeccompProfileType, annotations.KeyHTTPMaxRequestSize,
	annotations.KeyMaxBodySize, annotations.KeyHTTPReadBufferSize, annotations.KeyReadBufferSize,
	annotations.KeyGracefulShutdownSeconds, annotations.KeyBlockShutdownDuration,
	annotations.KeyEnableAPILogging, annotations.KeyUnixDomainSocketPath,
	annotations.KeyVolumeMountsReadOnly, annotations.KeyVolumeMountsReadWrite,
	annotations.KeyDisableBuiltinK8sSecretStore, annotations.KeyEnableAppHealthCheck,
	annotations.KeyAppHealthCheckPath, annotations.KeyAppHealthProbeInterval,
	annotations.KeyAppHealthProbeTimeout, annotations.KeyAppHealthThreshold,
	annotations.KeyPlacementHostAddresses, annotations.KeyActorsDisseminateTimeout,
	annotations.KeySchedulerHostAddresses, annotations.KeyPluggableComponents,
	annotations.KeyPluggableComponentsSocketsFolder, annotations.KeyPluggableComponentContainer,
	annotations.KeyPluggableComponentsInjection, annotations.KeyAppChannel,
	annotations.KeySentryRequestJwtAudiences, annotations.KeySidecarSvcAnnotations,
	annotations.KeyDisableInitEndpoints, annotations.KeyEnableNativeSidecar,
)

func setOf[T comparable](xs ...T) map[T]bool {
	out := make(map[T]bool, len(xs))
	for _, x := range xs {
		out[x] = true
	}
	return out
}
