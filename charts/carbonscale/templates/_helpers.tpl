{{/* Names and labels shared by every template. */}}
{{- define "carbonscale.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "carbonscale.fullname" -}}
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

{{/* Labels on every object; the chart version is left out of selectors so upgrades keep matching pods. */}}
{{- define "carbonscale.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "carbonscale.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: carbonscale
{{- end }}

{{- define "carbonscale.selectorLabels" -}}
app.kubernetes.io/name: {{ include "carbonscale.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "carbonscale.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "carbonscale.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "carbonscale.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "carbonscale.auditClaimName" -}}
{{- if eq .Values.audit.storage "existingClaim" }}
{{- required "audit.existingClaim: name the claim when audit.storage is existingClaim" .Values.audit.existingClaim }}
{{- else }}
{{- printf "%s-audit" (include "carbonscale.fullname" .) }}
{{- end }}
{{- end }}

{{/* The ConfigMap the operator publishes the attestation public keyring to. */}}
{{- define "carbonscale.attestationKeysConfigMap" -}}
{{- default (printf "%s-attestation-keys" (include "carbonscale.fullname" .)) .Values.attestation.publicKeysConfigMap }}
{{- end }}
