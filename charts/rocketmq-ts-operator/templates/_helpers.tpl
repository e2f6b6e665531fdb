{{/* Names and labels shared by every template of the chart. */}}

{{- define "rocketmq-ts-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name, cut to the 63 characters a DNS label allows. */}}
{{- define "rocketmq-ts-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "rocketmq-ts-operator.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "rocketmq-ts-operator.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "rocketmq-ts-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rocketmq-ts-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every object the release creates. */}}
{{- define "rocketmq-ts-operator.releaseLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: rocketmq-ts
{{- end }}

{{/* Labels of the operator's own objects. */}}
{{- define "rocketmq-ts-operator.labels" -}}
{{ include "rocketmq-ts-operator.releaseLabels" . }}
{{ include "rocketmq-ts-operator.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "rocketmq-ts-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "rocketmq-ts-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "rocketmq-ts-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Lease the operator replicas elect their leader with, in the release namespace. */}}
{{- define "rocketmq-ts-operator.leaseName" -}}
{{- printf "%s-leader" (include "rocketmq-ts-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
