{{/* The prefix of every name: config/default's namePrefix without its dash. */}}
{{- define "wco.fullname" -}}
{{- required "fullnameOverride must not be empty" .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels config/default puts on every object, plus Helm's own. */}}
{{- define "wco.labels" -}}
app.kubernetes.io/part-of: whatsapp-commerce-operator
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* What selects the operator's pods; never changes across upgrades. */}}
{{- define "wco.selectorLabels" -}}
app.kubernetes.io/name: whatsapp-commerce-operator
control-plane: controller-manager
{{- end -}}

{{- define "wco.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{- define "wco.archiveSecret" -}}
{{- if .Values.archive.existingSecret -}}
{{ .Values.archive.existingSecret }}
{{- else if .Values.archive.databaseURL -}}
{{ include "wco.fullname" . }}-archive
{{- end -}}
{{- end -}}

{{/*
Whether a rule of the manager's ClusterRole is about Secrets or ConfigMaps,
which watchNamespaces grants by a Role in each namespace instead.
*/}}
{{- define "wco.isNamespacedRule" -}}
{{- if and (has "" .apiGroups) (or (has "secrets" .resources) (has "configmaps" .resources)) }}true{{ end -}}
{{- end -}}
