{{- define "config-injector.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "config-injector.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "config-injector.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "config-injector.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "config-injector.selectorLabels" -}}
app.kubernetes.io/name: {{ include "config-injector.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "config-injector.labels" -}}
{{ include "config-injector.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: config-injector
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "config-injector.serviceAccountName" -}}
{{- default (include "config-injector.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "config-injector.tlsSecretName" -}}
{{- if eq .Values.tls.mode "secret" -}}
{{- required "tls.secret.name is required with tls.mode secret" .Values.tls.secret.name -}}
{{- else -}}
{{- printf "%s-tls" (include "config-injector.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/*
The commands that make the webhook's certificate and Secret for tls.mode=secret, with the Service name the
certificate must carry and the Secret name the Deployment mounts: the one source NOTES.txt and the error for a missing
tls.secret.caBundle print, so a user never derives these names by hand.
*/}}
{{- define "config-injector.certsCommands" -}}
configinjector certs generate --service {{ include "config-injector.fullname" . }} --namespace {{ .Release.Namespace }} --out certs
kubectl -n {{ .Release.Namespace }} create secret tls {{ include "config-injector.tlsSecretName" . }} --cert certs/tls.crt --key certs/tls.key
{{- end -}}

{{- define "config-injector.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if eq $tag "latest" -}}{{- fail "image.tag must name a version, not latest" -}}{{- end -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}

{{/* The self-signed CA and serving certificate: reused from the installed Secret on upgrade, made once otherwise. */}}
{{- define "config-injector.selfSignedPair" -}}
{{- $secretName := include "config-injector.tlsSecretName" . -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace $secretName -}}
{{- if and $existing $existing.data (index $existing.data "ca.crt") -}}
{{- dict "crt" (index $existing.data "tls.crt") "key" (index $existing.data "tls.key") "ca" (index $existing.data "ca.crt") | toJson -}}
{{- else -}}
{{- $fullname := include "config-injector.fullname" . -}}
{{- $dns := list $fullname (printf "%s.%s" $fullname .Release.Namespace) (printf "%s.%s.svc" $fullname .Release.Namespace) (printf "%s.%s.svc.cluster.local" $fullname .Release.Namespace) -}}
{{- $ca := genCA (printf "%s-ca" $fullname) (int .Values.tls.selfSigned.validityDays) -}}
{{- $cert := genSignedCert (printf "%s.%s.svc" $fullname .Release.Namespace) nil $dns (int .Values.tls.selfSigned.validityDays) $ca -}}
{{- dict "crt" ($cert.Cert | b64enc) "key" ($cert.Key | b64enc) "ca" ($ca.Cert | b64enc) | toJson -}}
{{- end -}}
{{- end -}}

{{/* Non-empty when a backend of `config` reads as the pod's service account (identity: pod). */}}
{{- define "config-injector.podIdentity" -}}
{{- range (fromYaml .Values.config).backends -}}
{{- if eq (toString .identity) "pod" -}}true{{- end -}}
{{- end -}}
{{- end -}}
