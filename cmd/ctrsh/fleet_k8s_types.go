package main

// The few Kubernetes object types `ctrsh fleet k8s` prints, with the JSON
// names and omitempty rules of k8s.io/api (apps/v1, batch/v1, core/v1).
// They are ours rather than k8s.io/api's because importing those packages
// made every ctrsh process pay for them: 11 MB of binary, 8 MiB of peak
// RSS and about 15 ms of package initialisation at each start, for a
// subcommand that only prints YAML. fleet_k8s_test.go decodes every
// manifest strictly into the real k8s.io/api types, so a field misnamed
// or misplaced here fails the tests.

type k8sTypeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

type k8sObjectMeta struct {
	Name        string            `json:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type k8sConfigMap struct {
	k8sTypeMeta
	Metadata k8sObjectMeta     `json:"metadata"`
	Data     map[string]string `json:"data,omitempty"`
}

type k8sDaemonSet struct {
	k8sTypeMeta
	Metadata k8sObjectMeta `json:"metadata"`
	Spec     struct {
		Selector       k8sLabelSelector   `json:"selector"`
		Template       k8sPodTemplateSpec `json:"template"`
		UpdateStrategy struct{}           `json:"updateStrategy"`
	} `json:"spec"`
}

type k8sJob struct {
	k8sTypeMeta
	Metadata k8sObjectMeta `json:"metadata"`
	Spec     struct {
		ActiveDeadlineSeconds   *int64             `json:"activeDeadlineSeconds,omitempty"`
		BackoffLimit            *int32             `json:"backoffLimit,omitempty"`
		Template                k8sPodTemplateSpec `json:"template"`
		TTLSecondsAfterFinished *int32             `json:"ttlSecondsAfterFinished,omitempty"`
	} `json:"spec"`
}

type k8sLabelSelector struct {
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}

type k8sPodTemplateSpec struct {
	Metadata k8sObjectMeta `json:"metadata"`
	Spec     k8sPodSpec    `json:"spec"`
}

type k8sPodSpec struct {
	AutomountServiceAccountToken  *bool             `json:"automountServiceAccountToken,omitempty"`
	Containers                    []k8sContainer    `json:"containers"`
	EnableServiceLinks            *bool             `json:"enableServiceLinks,omitempty"`
	HostPID                       bool              `json:"hostPID,omitempty"`
	NodeName                      string            `json:"nodeName,omitempty"`
	NodeSelector                  map[string]string `json:"nodeSelector,omitempty"`
	RestartPolicy                 string            `json:"restartPolicy,omitempty"`
	TerminationGracePeriodSeconds *int64            `json:"terminationGracePeriodSeconds,omitempty"`
	Tolerations                   []k8sToleration   `json:"tolerations,omitempty"`
	Volumes                       []k8sVolume       `json:"volumes,omitempty"`
}

type k8sToleration struct {
	Operator string `json:"operator,omitempty"`
}

type k8sContainer struct {
	Command         []string            `json:"command,omitempty"`
	Env             []k8sEnvVar         `json:"env,omitempty"`
	Image           string              `json:"image,omitempty"`
	ImagePullPolicy string              `json:"imagePullPolicy,omitempty"`
	Name            string              `json:"name"`
	Resources       k8sResources        `json:"resources"`
	SecurityContext *k8sSecurityContext `json:"securityContext,omitempty"`
	VolumeMounts    []k8sVolumeMount    `json:"volumeMounts,omitempty"`
}

type k8sEnvVar struct {
	Name      string           `json:"name"`
	Value     string           `json:"value,omitempty"`
	ValueFrom *k8sEnvVarSource `json:"valueFrom,omitempty"`
}

type k8sEnvVarSource struct {
	FieldRef *k8sFieldRef `json:"fieldRef,omitempty"`
}

type k8sFieldRef struct {
	FieldPath string `json:"fieldPath"`
}

// k8sResources holds quantities as Kubernetes prints them ("10m", "64Mi").
type k8sResources struct {
	Limits   map[string]string `json:"limits,omitempty"`
	Requests map[string]string `json:"requests,omitempty"`
}

type k8sSecurityContext struct {
	AppArmorProfile        *k8sProfile      `json:"appArmorProfile,omitempty"`
	Capabilities           *k8sCapabilities `json:"capabilities,omitempty"`
	Privileged             *bool            `json:"privileged,omitempty"`
	ReadOnlyRootFilesystem *bool            `json:"readOnlyRootFilesystem,omitempty"`
	RunAsUser              *int64           `json:"runAsUser,omitempty"`
	SeccompProfile         *k8sProfile      `json:"seccompProfile,omitempty"`
}

type k8sCapabilities struct {
	Add  []string `json:"add,omitempty"`
	Drop []string `json:"drop,omitempty"`
}

type k8sProfile struct {
	Type string `json:"type"`
}

type k8sVolumeMount struct {
	MountPath string `json:"mountPath"`
	Name      string `json:"name"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
	SubPath   string `json:"subPath,omitempty"`
}

type k8sVolume struct {
	ConfigMap *k8sConfigMapVolume `json:"configMap,omitempty"`
	EmptyDir  *k8sEmptyDir        `json:"emptyDir,omitempty"`
	HostPath  *k8sHostPath        `json:"hostPath,omitempty"`
	Name      string              `json:"name"`
}

type k8sConfigMapVolume struct {
	DefaultMode *int32 `json:"defaultMode,omitempty"`
	Name        string `json:"name,omitempty"`
}

type k8sEmptyDir struct {
	Medium string `json:"medium,omitempty"`
}

type k8sHostPath struct {
	Path string `json:"path"`
	Type string `json:"type,omitempty"`
}
