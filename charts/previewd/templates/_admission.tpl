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

{{/* Name of previewd's leader-election Lease (src/leader.rs, lease_name). */}}
{{- define "previewd.leaseName" -}}
{{- $cleaned := include "previewd.instance" . | lower | regexReplaceAll "[^a-z0-9]" "-" | trimAll "-" }}
{{- printf "previewd-%s" $cleaned | trimSuffix "-" | trunc 253 }}
{{- end }}

{{/* CEL: the host in the CEL expression (list $ "expr") may be a preview's: it ends with
previewHostSuffix and, when previewHost holds {{namespace}}, names the request's namespace (as a
whole label when previewHost has it as one). */}}
{{- define "previewd.celPreviewHost" -}}
{{- $root := index . 0 }}{{- $host := index . 1 }}
{{- $labels := splitList "." $root.Values.previewHost }}
{{- $host }}.endsWith('{{ $root.Values.previewHostSuffix }}')
{{- if has "{{namespace}}" $labels }} && ('.' + {{ $host }} + '.').contains('.' + variables.requestNamespace + '.')
{{- else if contains "{{namespace}}" $root.Values.previewHost }} && {{ $host }}.contains(variables.requestNamespace)
{{- end }}
{{- end }}

{{/* The ClusterRole previewd binds to itself in each preview namespace. */}}
{{- define "previewd.previewRoleName" -}}
{{- printf "%s-preview" (include "previewd.fullname" .) }}
{{- end }}
