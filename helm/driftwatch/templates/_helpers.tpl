{{/*
The chart name, truncated to 63 characters (the DNS label limit).
*/}}
{{- define "driftwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of every resource: <release>-<chart>, or <release> when it already
contains the chart name; truncated to 63 characters.
*/}}
{{- define "driftwatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
chart label value: <name>-<version>.
*/}}
{{- define "driftwatch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Standard labels on every resource.
*/}}
{{- define "driftwatch.labels" -}}
helm.sh/chart: {{ include "driftwatch.chart" . }}
{{ include "driftwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: driftwatch
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels: stable for the lifetime of a release.
*/}}
{{- define "driftwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "driftwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount name.
*/}}
{{- define "driftwatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "driftwatch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The container image: repository@digest, or repository:tag (tag defaults to appVersion).
*/}}
{{- define "driftwatch.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Paths inside the container. */}}
{{- define "driftwatch.configDir" -}}/etc/driftwatch{{- end }}
{{- define "driftwatch.stateDir" -}}/var/lib/driftwatch{{- end }}
{{- define "driftwatch.cacheDir" -}}/var/cache/driftwatch{{- end }}
{{- define "driftwatch.gitSecretDir" -}}/var/run/secrets/driftwatch/git{{- end }}
{{- define "driftwatch.apiTokenDir" -}}/var/run/secrets/driftwatch/api{{- end }}

{{/*
Git credentials every target without its own gets (a dict, empty without a Secret).
*/}}
{{- define "driftwatch.gitCredentials" -}}
{{- $creds := dict }}
{{- if .Values.git.existingSecret }}
{{- $dir := include "driftwatch.gitSecretDir" . }}
{{- if eq .Values.git.auth "ssh" }}
{{- $_ := set $creds "sshKeyFile" (printf "%s/ssh-privatekey" $dir) }}
{{- if .Values.git.knownHosts }}
{{- $_ := set $creds "knownHostsFile" (printf "%s/known_hosts" (include "driftwatch.configDir" .)) }}
{{- else }}
{{- $_ := set $creds "knownHostsFile" (printf "%s/known_hosts" $dir) }}
{{- end }}
{{- else }}
{{- $_ := set $creds "tokenFile" (printf "%s/token" $dir) }}
{{- $_ := set $creds "username" .Values.git.username }}
{{- end }}
{{- end }}
{{- toYaml $creds }}
{{- end }}

{{/*
driftwatch's config.yaml: the values' config block plus what the chart owns.
*/}}
{{- define "driftwatch.configFile" -}}
{{- $config := deepCopy .Values.config }}
{{- $out := dict "version" 1 }}
{{- $clusters := $config.clusters | default list }}
{{- $hasDefault := false }}
{{- range $clusters }}
{{- if eq .name "default" }}{{ $hasDefault = true }}{{ end }}
{{- end }}
{{- if not $hasDefault }}
{{- $clusters = prepend $clusters (dict "name" "default" "inCluster" true) }}
{{- end }}
{{- $_ := set $out "clusters" $clusters }}
{{- $creds := include "driftwatch.gitCredentials" . | fromYaml }}
{{- $targets := list }}
{{- range $target := ($config.targets | default list) }}
{{- $t := deepCopy $target }}
{{- if and $creds $.Values.git.applyToTargets (not (hasKey $t "credentials")) }}
{{- $_ := set $t "credentials" $creds }}
{{- end }}
{{- $targets = append $targets $t }}
{{- end }}
{{- $_ := set $out "targets" $targets }}
{{- range $key := list "ignore" "sensitiveAnnotations" "unmanagedKinds" }}
{{- with get $config $key }}
{{- $_ := set $out $key . }}
{{- end }}
{{- end }}
{{- range $key := list "managers" "eventLog" "alertmanager" "server" }}
{{- with get $config $key }}
{{- $_ := set $out $key . }}
{{- end }}
{{- end }}
{{- $server := deepCopy (get $out "server" | default dict) }}
{{- if and .Values.externalURL (not (hasKey $server "externalUrl")) }}
{{- $_ := set $server "externalUrl" .Values.externalURL }}
{{- end }}
{{- if and .Values.grafanaURL (not (hasKey $server "grafanaUrl")) }}
{{- $_ := set $server "grafanaUrl" .Values.grafanaURL }}
{{- end }}
{{- if $server }}
{{- $_ := set $out "server" $server }}
{{- end }}
{{- $_ := set $out "instance" (default (include "driftwatch.fullname" .) $config.instance) }}
{{- toYaml $out }}
{{- end }}

{{/*
RBAC rule bodies (apiGroups/resources/resourceNames) for the namespaced or cluster-wide
role; the templates add verbs get/list/watch to every one of them.
*/}}
{{- define "driftwatch.rbacRules" -}}
{{- $rules := list }}
{{- if .Values.rbac.rules }}
{{- $rules = .Values.rbac.rules }}
{{- else if .Values.rbac.secrets }}
{{- $rules = list (dict "apiGroups" (list "*") "resources" (list "*")) }}
{{- else }}
{{- $core := list "configmaps" "endpoints" "events" "limitranges" "namespaces" "nodes" "persistentvolumeclaims" "persistentvolumes" "pods" "podtemplates" "replicationcontrollers" "resourcequotas" "serviceaccounts" "services" }}
{{- $rules = list (dict "apiGroups" (list "") "resources" $core) }}
{{- with .Values.rbac.apiGroups }}
{{- $rules = append $rules (dict "apiGroups" . "resources" (list "*")) }}
{{- end }}
{{- end }}
{{- $rules = concat $rules .Values.rbac.extraRules }}
{{- toYaml (dict "rules" $rules) }}
{{- end }}

{{/*
Render a list of rule bodies with the read-only verbs.
*/}}
{{- define "driftwatch.readOnlyRules" -}}
{{- range . }}
- apiGroups:
    {{- toYaml .apiGroups | nindent 4 }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  {{- with .resourceNames }}
  resourceNames:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  verbs:
    - get
    - list
    - watch
{{- end }}
{{- end }}

{{/*
OTEL_RESOURCE_ATTRIBUTES: the pod's Kubernetes identity (expanded by the kubelet from the
POD_* variables defined before it) plus otel.resourceAttributes, sorted by key.
*/}}
{{- define "driftwatch.otelResourceAttributes" -}}
{{- $attrs := list "k8s.namespace.name=$(POD_NAMESPACE)" "k8s.pod.name=$(POD_NAME)" (printf "k8s.%s.name=%s" (ternary "statefulset" "deployment" (eq (include "driftwatch.sharded" .) "true")) (include "driftwatch.fullname" .)) }}
{{- range $key := keys .Values.otel.resourceAttributes | sortAlpha }}
{{- $attrs = append $attrs (printf "%s=%v" $key (get $.Values.otel.resourceAttributes $key)) }}
{{- end }}
{{- join "," $attrs }}
{{- end }}

{{/*
"true" when replicaCount > 1: a StatefulSet whose pods each run one shard of the targets
(empty otherwise, so it can be used in `if`).
*/}}
{{- define "driftwatch.sharded" -}}
{{- if gt (int .Values.replicaCount) 1 }}true{{ end }}
{{- end }}

{{/*
The headless Service giving each shard's pod its own DNS name.
*/}}
{{- define "driftwatch.headlessName" -}}
{{- printf "%s-headless" (include "driftwatch.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
DRIFTWATCH_PEER_URL: the base URL of the pod running shard {shard}, through the per-pod
DNS name of the headless Service; requests for a target another pod runs are redirected there.
*/}}
{{- define "driftwatch.peerUrl" -}}
{{- if .Values.sharding.peerUrl }}
{{- .Values.sharding.peerUrl }}
{{- else }}
{{- printf "http://%s-{shard}.%s.%s.svc:%v" (include "driftwatch.fullname" .) (include "driftwatch.headlessName" .) .Release.Namespace .Values.containerPort }}
{{- end }}
{{- end }}

{{/*
The spec of the state volume's claim (the single PVC, or each replica's claim template).
*/}}
{{- define "driftwatch.claimSpec" -}}
accessModes:
  {{- toYaml .Values.persistence.accessModes | nindent 2 }}
{{- with .Values.persistence.storageClass }}
storageClassName: {{ if eq . "-" }}""{{ else }}{{ . | quote }}{{ end }}
{{- end }}
resources:
  requests:
    storage: {{ .Values.persistence.size | quote }}
{{- end }}
