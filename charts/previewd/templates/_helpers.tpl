{{/* The chart name, or nameOverride. */}}
{{- define "previewd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of the release's objects: fullnameOverride, or <release>-<name> (just <release> when it
already contains the name). */}}
{{- define "previewd.fullname" -}}
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

{{/* Labels that select previewd's pods. */}}
{{- define "previewd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "previewd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every object of the chart. */}}
{{- define "previewd.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "previewd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "previewd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "previewd.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the webhook secret and the GitHub token. */}}
{{- define "previewd.secretName" -}}
{{- if .Values.secret.create }}
{{- default (include "previewd.fullname" .) .Values.secret.name }}
{{- else }}
{{- required "secret.name is required when secret.create is false" .Values.secret.name }}
{{- end }}
{{- end }}

{{/* The ConfigMap holding the templates. */}}
{{- define "previewd.templatesConfigMap" -}}
{{- default (printf "%s-templates" (include "previewd.fullname" .)) .Values.templates.existingConfigMap }}
{{- end }}

{{/* Template file name -> content: the defaults (unless turned off) with templates.files over
them; an empty content removes a file. */}}
{{- define "previewd.templateFiles" -}}
{{- $files := dict }}
{{- if .Values.templates.useDefaults }}
{{- range $path, $_ := .Files.Glob "files/templates/*" }}
{{- $_ := set $files (base $path) ($.Files.Get $path) }}
{{- end }}
{{- end }}
{{- range $name, $content := .Values.templates.files }}
{{- if $content }}
{{- $_ := set $files $name $content }}
{{- else }}
{{- $_ := unset $files $name }}
{{- end }}
{{- end }}
{{- toJson $files }}
{{- end }}

{{/* The instance label value previewd stamps on its previews. */}}
{{- define "previewd.instance" -}}
{{- default .Release.Name .Values.instance }}
{{- end }}
