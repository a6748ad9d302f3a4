{{/* Name of the ValidatingAdmissionPolicy and of its binding. Both are cluster-scoped, so the
name carries the release namespace as well as the release's full name: two releases never share
one. Dots are allowed (a DNS subdomain), and "previewd-admission" stays readable in a refusal. */}}
{{- define "previewd.admissionPolicyName" -}}
{{- printf "%s-admission.%s" (include "previewd.fullname" .) .Release.Namespace }}
{{- end }}

{{/* The user previewd's requests come from: its ServiceAccount. */}}
{{- define "previewd.serviceAccountUser" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "previewd.serviceAccountName" .) }}
{{- end }}

{{/* The labels that put an object in previewd's lane, as "key=value,key=value". */}}
{{- define "previewd.laneSelector" -}}
{{- printf "app.kubernetes.io/managed-by=previewd,previewd.dev/instance=%s" (include "previewd.instance" .) }}
{{- end }}

{{/* CEL: the object held in the CEL variable named by the argument carries every label of
variables.lane. */}}
{{- define "previewd.celInLane" -}}
has({{ . }}.metadata.labels) && variables.lane.all(k, k in {{ . }}.metadata.labels && {{ . }}.metadata.labels[k] == variables.lane[k])
{{- end }}
