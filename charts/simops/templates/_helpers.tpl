{{- define "simops.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "simops.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "simops.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The pod labels of a controller Deployment: the main one (shard ""), or one shard's. Distinct
     components, so that no Deployment's selector picks another's pods. */}}
{{- define "simops.controllerSelector" -}}
{{- if .shard -}}
{{ include "simops.selector" (dict "root" .root "component" "controller-shard") }}
simops.dev/shard: {{ .shard | quote }}
{{- else -}}
{{ include "simops.selector" (dict "root" .root "component" "controller") }}
{{- end -}}
{{- end -}}

{{- define "simops.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The Redis URL workers and the controller use: the bundled Redis, or the one given. */}}
{{- define "simops.redisUrl" -}}
{{- if .Values.redis.enabled -}}
redis://{{ include "simops.fullname" . }}-redis:6379
{{- else -}}
{{- .Values.redis.url -}}
{{- end -}}
{{- end -}}
